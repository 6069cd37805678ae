/* Who is at the other end of a loopback TCP connection (peeruid.h). */
#include "common.h"

#include "peeruid.h"

#ifdef __linux__

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * Ask the kernel for the one socket whose local end is peer and whose
 * remote end is local_addr: the client's socket.  inet_diag looks up
 * (idiag_dst, idiag_dport) as the remote and (idiag_src, idiag_sport) as
 * the local end of the socket it reports (net/ipv4/inet_diag.c,
 * inet_diag_find_one_icsk).
 */
static int
by_sock_diag(const struct sockaddr_in *peer,
    const struct sockaddr_in *local_addr, uid_t *uid)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	union {
		struct nlmsghdr nlh;
		char b[8192];
	} ans;
	struct timeval tv = { 1, 0 };
	struct inet_diag_msg *m;
	struct nlmsghdr *h;
	ssize_t n;
	int fd, rc = JANEE_ERR_UNSUPPORTED;

	if ((fd = socket(
		 AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) < 0)
		return JANEE_ERR_UNSUPPORTED;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&req, 0, sizeof(req));
	req.nlh.nlmsg_len = sizeof(req);
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.r.sdiag_family = AF_INET;
	req.r.sdiag_protocol = IPPROTO_TCP;
	req.r.idiag_states = ~0u;
	req.r.id.idiag_sport = peer->sin_port;
	req.r.id.idiag_dport = local_addr->sin_port;
	req.r.id.idiag_src[0] = peer->sin_addr.s_addr;
	req.r.id.idiag_dst[0] = local_addr->sin_addr.s_addr;
	req.r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
	req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&sa,
		sizeof(sa)) != (ssize_t)sizeof(req))
		goto out;
	if ((n = recv(fd, &ans, sizeof(ans), 0)) < 0)
		goto out;
	for (h = &ans.nlh; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			/* ENOENT: no such socket (it closed meanwhile). */
			struct nlmsgerr *e = NLMSG_DATA(h);

			rc = h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) &&
				e->error == -ENOENT
			    ? JANEE_ERR_NOT_FOUND
			    : JANEE_ERR_UNSUPPORTED;
			break;
		}
		if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
		    h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
			continue;
		m = NLMSG_DATA(h);
		if (m->id.idiag_sport != peer->sin_port ||
		    m->id.idiag_src[0] != peer->sin_addr.s_addr ||
		    m->id.idiag_dport != local_addr->sin_port)
			continue;
		*uid = (uid_t)m->idiag_uid;
		rc = 0;
		break;
	}
out:
	close(fd);
	return rc;
}

/*
 * The same from /proc/net/tcp, for kernels without inet_diag: each line
 * is "sl local rem st tx:rx tr:when retrnsmt uid ...", addresses as the
 * 32-bit value of the network-order address in hex and ports in host
 * order (net/ipv4/tcp_ipv4.c, get_tcp4_sock).
 */
static int
by_proc(const struct sockaddr_in *peer, const struct sockaddr_in *local_addr,
    uid_t *uid)
{
	unsigned la, lp, ra, rp, st;
	unsigned long u;
	char line[512];
	FILE *fp;
	int rc = JANEE_ERR_NOT_FOUND;

	if ((fp = fopen("/proc/net/tcp", "re")) == NULL)
		return JANEE_ERR_UNSUPPORTED;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line,
			" %*d: %8X:%4X %8X:%4X %2X %*x:%*x %*x:%*x %*x %lu",
			&la, &lp, &ra, &rp, &st, &u) != 6)
			continue;
		if (la == peer->sin_addr.s_addr &&
		    lp == ntohs(peer->sin_port) &&
		    ra == local_addr->sin_addr.s_addr &&
		    rp == ntohs(local_addr->sin_port)) {
			*uid = (uid_t)u;
			rc = 0;
			break;
		}
	}
	fclose(fp);
	return rc;
}

int
loopback_peer_uid(const struct sockaddr_in *peer,
    const struct sockaddr_in *local_addr, uid_t *uid)
{
	int rc;

	if (peer->sin_family != AF_INET ||
	    (ntohl(peer->sin_addr.s_addr) >> 24) != 127)
		return JANEE_ERR_UNSUPPORTED;
	if ((rc = by_sock_diag(peer, local_addr, uid)) != JANEE_ERR_UNSUPPORTED)
		return rc;
	return by_proc(peer, local_addr, uid);
}

#else

int
loopback_peer_uid(const struct sockaddr_in *peer,
    const struct sockaddr_in *local_addr, uid_t *uid)
{
	(void)peer;
	(void)local_addr;
	(void)uid;
	return JANEE_ERR_UNSUPPORTED;
}

#endif
