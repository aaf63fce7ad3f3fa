// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * logtext.h - log text that another program reads.
 *
 * Users grep for the prefixes; jupyter slurm doctor (doctor_kernel.c)
 * tells how far a trial kernel got by the phrases, and bench/kernel.py times
 * the start by SJ_LOG_KERNEL_STARTING (spelled again there, in Python).
 * Written and read only through these names, so that a reworded log line
 * cannot leave doctor reading nothing.
 */
#ifndef SJ_LOGTEXT_H
#define SJ_LOGTEXT_H

/* The first words of every line of the shim's, the plugin's and
 * jupyter-slurm's, given once to sj_log_init (logger.h). */
#define SJ_SHIM_LOG_PREFIX	"slurm-jupyter-shim: "
#define SJ_PLUGIN_LOG_PREFIX	"spank_jupyter: "
#define SJ_GEN_LOG_PREFIX	"jupyter-slurm: "

/* Login shim, after the rendezvous: "… NODE (job J, step S)". */
#define SJ_LOG_KERNEL_STARTING	"kernel starting on "
/* Node shim (debug): "kernel pid P, relay on ADDRESS port PORT". */
#define SJ_LOG_RELAY_ON		", relay on "
/* Node shim's link, when the login shim has connected: "… PEER". */
#define SJ_LOG_LOGIN_CONNECTED	"login side connected from "

#endif
