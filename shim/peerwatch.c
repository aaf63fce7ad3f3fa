#include "peerwatch.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <zmq.h>

#include "log.h"

int peerwatch_open(struct peerwatch *pw, void *ctx, void *socket,
		   int grace_s, struct sj_err *err)
{
	char ep[64];

	memset(pw, 0, sizeof(*pw));
	pw->grace_s = grace_s;
	pw->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC |
				      TFD_NONBLOCK);
	if (pw->timer_fd < 0)
		return sj_err_errno(err, errno, "timerfd_create");
	snprintf(ep, sizeof(ep), "inproc://peerwatch-%p", socket);
	if (zmq_socket_monitor(socket, ep, ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
			       ZMQ_EVENT_DISCONNECTED) != 0)
		return sj_err_set(err, "zmq_socket_monitor: %s",
				  zmq_strerror(zmq_errno()));
	pw->monitor = zmq_socket(ctx, ZMQ_PAIR);
	if (pw->monitor == NULL || zmq_connect(pw->monitor, ep) != 0)
		return sj_err_set(err, "monitor socket: %s",
				  zmq_strerror(zmq_errno()));
	return 0;
}

static void arm(struct peerwatch *pw, int on)
{
	struct itimerspec its = { .it_value = { .tv_sec = on ? pw->grace_s
						: 0 } };

	if (timerfd_settime(pw->timer_fd, 0, &its, NULL) != 0)
		shim_error("timerfd_settime: %s", strerror(errno));
}

static int find(struct peerwatch *pw, const char *peer)
{
	for (int i = 0; i < pw->npeers; i++)
		if (strcmp(pw->peers[i], peer) == 0)
			return i;
	return -1;
}

/* One monitor event: a frame of event number and value, a frame of the
 * peer's endpoint.  Returns 1 if one was read, 0 if none, -1 on error. */
static int one_event(struct peerwatch *pw)
{
	uint8_t head[6];
	char peer[64];
	uint16_t event;
	int n;

	n = zmq_recv(pw->monitor, head, sizeof(head), ZMQ_DONTWAIT);
	if (n < 0)
		return zmq_errno() == EAGAIN ? 0 : -1;
	n = zmq_recv(pw->monitor, peer, sizeof(peer) - 1, 0);
	if (n < 0)
		return -1;
	peer[n < (int)sizeof(peer) ? n : (int)sizeof(peer) - 1] = '\0';
	memcpy(&event, head, sizeof(event));

	int i = find(pw, peer);
	if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
		if (i < 0 && pw->npeers < PEERWATCH_MAX)
			snprintf(pw->peers[pw->npeers++], sizeof(pw->peers[0]),
				 "%s", peer);
		pw->ever_connected = 1;
		arm(pw, 0);
		shim_debug("login side connected from %s", peer);
	} else if (event == ZMQ_EVENT_DISCONNECTED && i >= 0) {
		memmove(pw->peers[i], pw->peers[i + 1],
			(size_t)(pw->npeers - i - 1) * sizeof(pw->peers[0]));
		pw->npeers--;
		shim_debug("login side %s disconnected", peer);
		if (pw->npeers == 0)
			arm(pw, 1);
	}
	return 1;
}

int peerwatch_on_event(struct sj_fwd_watch *w)
{
	struct peerwatch *pw = w->arg;
	int r;

	while ((r = one_event(pw)) > 0)
		;
	return r < 0 ? -1 : 0;
}

int peerwatch_on_timer(struct sj_fwd_watch *w)
{
	struct peerwatch *pw = w->arg;
	uint64_t expirations;

	if (read(pw->timer_fd, &expirations, sizeof(expirations)) !=
	    (ssize_t)sizeof(expirations))
		return 0;
	if (pw->npeers > 0)
		return 0;
	pw->gone = 1;
	return 1;
}

void peerwatch_close(struct peerwatch *pw)
{
	if (pw->monitor != NULL)
		zmq_close(pw->monitor);
	if (pw->timer_fd >= 0)
		close(pw->timer_fd);
	pw->monitor = NULL;
	pw->timer_fd = -1;
}
