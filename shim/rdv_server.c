#include "rdv_server.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fsutil.h"

/* Bounds one exchange, so a peer that connects and stalls cannot hold up
 * the kernel start for long. */
#define EXCHANGE_TIMEOUT_MS 10000

int rdv_server_open(struct rdv_server *r, const char *host,
		    struct sj_err *err)
{
	struct sockaddr_in6 sa;
	socklen_t salen = sizeof(sa);
	int off = 0;

	memset(r, 0, sizeof(*r));
	r->fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		return sj_err_errno(err, errno, "rendezvous socket");
	/* Dual stack: nodes may reach us over IPv4 or IPv6. */
	if (setsockopt(r->fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)))
		return sj_err_errno(err, errno, "IPV6_V6ONLY");
	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	sa.sin6_addr = in6addr_any;
	if (bind(r->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(r->fd, 8) != 0 ||
	    getsockname(r->fd, (struct sockaddr *)&sa, &salen) != 0)
		return sj_err_errno(err, errno, "rendezvous listen");
	r->spec.port = ntohs(sa.sin6_port);
	if (host != NULL) {
		if (strlen(host) >= sizeof(r->spec.host))
			return sj_err_set(err, "--rendezvous-host too long");
		strcpy(r->spec.host, host);
	}
	return sj_random_hex(r->spec.nonce, SJ_NONCE_BYTES, err);
}

static int exchange(int fd, struct rdv_server *r, const struct sj_connfile *cf,
		    const char *client_public, const char *transport,
		    struct sj_hello *hello, struct sj_err *err)
{
	char *frame = NULL, *payload = NULL, *text = NULL, *cred = NULL;
	size_t flen = 0, plen = 0;
	struct sj_welcome w;
	int rv = -1;

	memset(&w, 0, sizeof(w));
	if (sj_frame_recv(fd, EXCHANGE_TIMEOUT_MS, &frame, &flen, err))
		goto fail;
	/* Only a credential made by our own uid is a HELLO for us. */
	if (sj_unseal(frame, getuid(), &payload, &plen, err))
		goto fail;
	if (sj_hello_decode(payload, plen, hello, err))
		goto fail;
	if (strcmp(hello->nonce, r->spec.nonce) != 0) {
		sj_err_set(err, "HELLO for another kernel (nonce mismatch)");
		goto fail;
	}

	strcpy(w.nonce, r->spec.nonce);
	strcpy(w.node_nonce, hello->node_nonce);
	strcpy(w.key, cf->key);
	strcpy(w.signature_scheme, cf->signature_scheme);
	strcpy(w.client_key, client_public);
	snprintf(w.transport, sizeof(w.transport), "%s", transport);
	text = sj_welcome_encode(&w, err);
	if (text == NULL)
		goto fail;
	if (sj_seal(text, strlen(text), getuid(), &cred, err))
		goto fail;
	if (sj_frame_send(fd, cred, strlen(cred), EXCHANGE_TIMEOUT_MS, err))
		goto fail;
	rv = 0;
fail:
	explicit_bzero(&w, sizeof(w));
	if (text != NULL) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	free(cred);
	if (payload != NULL) {
		explicit_bzero(payload, plen);
		free(payload);
	}
	free(frame);
	return rv;
}

int rdv_server_exchange(struct rdv_server *r, const struct sj_connfile *cf,
			const char *client_public, const char *transport,
			struct sj_hello *hello, struct sj_err *err)
{
	int fd, rv;

	fd = accept4(r->fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return sj_err_errno(err, errno, "rendezvous accept");
	rv = exchange(fd, r, cf, client_public, transport, hello, err);
	close(fd);
	if (rv)
		sj_err_wrap(err, "rendezvous refused");
	return rv;
}

void rdv_server_close(struct rdv_server *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}
