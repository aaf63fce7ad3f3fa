// SPDX-License-Identifier: GPL-2.0-or-later
/* The one event loop (common/forward/evloop.c): each event reaches its
 * owner's handler with the owner's part of its tag, owner by owner; an
 * fd taken out during a batch gets none of the batch's events left; a
 * timer fires into the loop; a handler's failure is the loop's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "evio.h"
#include "evloop.h"
#include "testutil.h"

#define MAX_SEEN 16

/* What the handlers saw, in order: owner and tag of each event, and the
 * batch ends as tag UINT64_MAX. */
struct seen {
	struct sj_evloop *lp;
	int n;
	int owner[MAX_SEEN];
	uint64_t tag[MAX_SEEN];
	uint32_t events[MAX_SEEN];
	int fds[2];		/* test_forget: the two read ends */
	int fail;		/* on_event fails */
};

static struct seen *seen_add(struct seen *s, int owner, uint64_t tag,
			     uint32_t events)
{
	assert_true(s->n < MAX_SEEN);
	s->owner[s->n] = owner;
	s->tag[s->n] = tag;
	s->events[s->n] = events;
	s->n++;
	return s;
}

/* One handler argument per owner: the owner and the shared record. */
struct who {
	int owner;
	struct seen *s;
};

static int on_event(void *arg, uint64_t tag, uint32_t events,
		    struct sj_err *err)
{
	struct who *w = arg;

	seen_add(w->s, w->owner, tag, events);
	if (w->s->fail)
		return sj_err_set(err, "handler %d failed", w->owner);
	return 0;
}

static int on_batch_end(void *arg, struct sj_err *err)
{
	struct who *w = arg;

	(void)err;
	seen_add(w->s, w->owner, UINT64_MAX, 0);
	return 0;
}

/* A pipe with a byte waiting in it, its read end registered in lp. */
static int ready_pipe(struct sj_evloop *lp, uint64_t tag, int *wfd)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(sj_evio_watch(lp, EPOLL_CTL_ADD, p[0], tag, 0), 0);
	*wfd = p[1];
	return p[0];
}

static void test_dispatch_by_owner(void **state)
{
	struct sj_evloop lp;
	struct sj_err err = { "" };
	struct seen s = { 0 };
	struct who link = { SJ_EV_OWNER_LINK, &s },
		   kernel = { SJ_EV_OWNER_KERNEL, &s },
		   watch = { SJ_EV_OWNER_WATCH, &s };
	int r[4], w[4];

	(void)state;
	assert_ok(sj_evloop_open(&lp, &err), err);
	sj_evloop_handler(&lp, SJ_EV_OWNER_LINK, on_event, on_batch_end,
			  &link);
	sj_evloop_handler(&lp, SJ_EV_OWNER_KERNEL, on_event, NULL, &kernel);
	sj_evloop_handler(&lp, SJ_EV_OWNER_WATCH, on_event, on_batch_end,
			  &watch);
	/* Registered in the opposite order to the one they are served in;
	 * the owner's part of a tag may use all its 56 bits. */
	r[0] = ready_pipe(&lp, SJ_EV_TAG(SJ_EV_OWNER_KERNEL, 7), &w[0]);
	r[1] = ready_pipe(&lp, SJ_EV_TAG(SJ_EV_OWNER_LINK, SJ_EV_TAG_MASK),
			  &w[1]);
	r[2] = ready_pipe(&lp, SJ_EV_TAG(SJ_EV_OWNER_KERNEL, 9), &w[2]);
	/* The listener has no handler: its event goes nowhere. */
	r[3] = ready_pipe(&lp, SJ_EV_TAG(SJ_EV_OWNER_LISTENER, 1), &w[3]);
	assert_int_equal(sj_evloop_wait(&lp, 30000, &err), 4);
	assert_ok(sj_evloop_dispatch_all(&lp, &err), err);
	/* The link's event, its batch end, the kernel's two (no batch end
	 * set), and none for the watches, which had no event. */
	assert_int_equal(s.n, 4);
	assert_int_equal(s.owner[0], SJ_EV_OWNER_LINK);
	assert_true(s.tag[0] == SJ_EV_TAG_MASK);
	assert_true(s.events[0] & EPOLLIN);
	assert_int_equal(s.owner[1], SJ_EV_OWNER_LINK);
	assert_true(s.tag[1] == UINT64_MAX);
	assert_int_equal(s.owner[2], SJ_EV_OWNER_KERNEL);
	assert_int_equal(s.owner[3], SJ_EV_OWNER_KERNEL);
	assert_true((s.tag[2] == 7 && s.tag[3] == 9) ||
		    (s.tag[2] == 9 && s.tag[3] == 7));
	/* A batch is dispatched once: again, nothing. */
	assert_ok(sj_evloop_dispatch_all(&lp, &err), err);
	assert_int_equal(s.n, 4);
	for (int i = 0; i < 4; i++) {
		close(r[i]);
		close(w[i]);
	}
	sj_evloop_close(&lp);
}

/* A connection freed by an earlier event of the batch: its fd taken out
 * with sj_evio_close, its events left in the batch are not handed on. */
static int close_the_other(void *arg, uint64_t tag, uint32_t events,
			   struct sj_err *err)
{
	struct who *w = arg;
	int other = tag == 1 ? 2 : 1;

	(void)events;
	(void)err;
	seen_add(w->s, w->owner, tag, events);
	sj_evio_close(w->s->lp, &w->s->fds[other - 1],
		      SJ_EV_TAG(SJ_EV_OWNER_LINK, other));
	return 0;
}

static void test_forget(void **state)
{
	struct sj_evloop lp;
	struct sj_err err = { "" };
	struct seen s = { .lp = &lp };
	struct who link = { SJ_EV_OWNER_LINK, &s };
	int w[2];

	(void)state;
	assert_ok(sj_evloop_open(&lp, &err), err);
	sj_evloop_handler(&lp, SJ_EV_OWNER_LINK, close_the_other, NULL,
			  &link);
	s.fds[0] = ready_pipe(&lp, SJ_EV_TAG(SJ_EV_OWNER_LINK, 1), &w[0]);
	s.fds[1] = ready_pipe(&lp, SJ_EV_TAG(SJ_EV_OWNER_LINK, 2), &w[1]);
	assert_int_equal(sj_evloop_wait(&lp, 30000, &err), 2);
	assert_ok(sj_evloop_dispatch(&lp, SJ_EV_OWNER_LINK, &err), err);
	/* Whichever came first closed the other. */
	assert_int_equal(s.n, 1);
	assert_int_equal(s.fds[s.tag[0] == 1 ? 1 : 0], -1);
	close(s.fds[s.tag[0] == 1 ? 0 : 1]);
	close(w[0]);
	close(w[1]);
	sj_evloop_close(&lp);
}

static void test_timer(void **state)
{
	struct sj_evloop lp;
	struct sj_err err = { "" };
	struct seen s = { 0 };
	struct who kernel = { SJ_EV_OWNER_KERNEL, &s };
	uint64_t ticks;
	int fd;

	(void)state;
	assert_ok(sj_evloop_open(&lp, &err), err);
	sj_evloop_handler(&lp, SJ_EV_OWNER_KERNEL, on_event, NULL, &kernel);
	assert_ok(sj_evloop_timer(&lp, SJ_EV_TAG(SJ_EV_OWNER_KERNEL, 0xff),
				  &fd, &err), err);
	/* Not armed: nothing. */
	assert_int_equal(sj_evloop_wait(&lp, 0, &err), 0);
	assert_int_equal(sj_evio_arm(fd, 1), 0);
	while (s.n == 0)
		assert_ok(sj_evloop_run_once(&lp, -1, &err), err);
	assert_int_equal(s.n, 1);
	assert_true(s.tag[0] == 0xff);
	assert_int_equal(read(fd, &ticks, sizeof(ticks)), sizeof(ticks));
	/* Read, it has nothing more to say. */
	assert_int_equal(sj_evloop_wait(&lp, 0, &err), 0);
	sj_evio_close(&lp, &fd, SJ_EV_TAG(SJ_EV_OWNER_KERNEL, 0xff));
	assert_int_equal(fd, -1);
	sj_evloop_close(&lp);
}

static void test_handler_fails(void **state)
{
	struct sj_evloop lp;
	struct sj_err err = { "" };
	struct seen s = { .fail = 1 };
	struct who listener = { SJ_EV_OWNER_LISTENER, &s };
	int r, w;

	(void)state;
	assert_ok(sj_evloop_open(&lp, &err), err);
	sj_evloop_handler(&lp, SJ_EV_OWNER_LISTENER, on_event, NULL,
			  &listener);
	r = ready_pipe(&lp, SJ_EV_TAG(SJ_EV_OWNER_LISTENER, 3), &w);
	assert_fails(sj_evloop_run_once(&lp, 30000, &err), err,
		     "handler 2 failed");
	close(r);
	close(w);
	sj_evloop_close(&lp);
	/* Closed twice, or never opened: nothing to do. */
	sj_evloop_close(&lp);
}

SJ_TEST_MAIN(cmocka_unit_test(test_dispatch_by_owner),
	     cmocka_unit_test(test_forget),
	     cmocka_unit_test(test_timer),
	     cmocka_unit_test(test_handler_fails))
