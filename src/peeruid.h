/*
 * Who is at the other end of a TCP connection on loopback.  A Unix
 * socket has SO_PEERCRED; TCP has nothing of the kind, but on Linux the
 * kernel knows which socket is the other end of a loopback connection
 * and who created it: NETLINK_SOCK_DIAG answers an exact look-up by the
 * four-tuple (inet_diag_req_v2, no privilege needed), and
 * /proc/net/tcp has the same uid column for everyone to read.
 *
 * What it cannot tell: processes of the same uid apart (any program the
 * person runs, an agent with a shell, the browser are all "the person");
 * the first hop of a relay (a proxy or an `ssh -L` of the same uid
 * forwards for whoever connected to it); a socket handed to another
 * process (SCM_RIGHTS, fork) keeps the uid of the one that made it; and
 * another network namespace has a loopback of its own, where nothing of
 * ours is reachable.  Root can do anything.
 */
#ifndef JANEE_PEERUID_H
#define JANEE_PEERUID_H

#include "common.h"

#include <netinet/in.h>
#include <sys/types.h>

/*
 * The uid owning the socket at peer (an IPv4 loopback address and port)
 * connected to our local_addr.  0 with *uid set; JANEE_ERR_NOT_FOUND
 * when no such socket is found (it closed meanwhile), JANEE_ERR_UNSUPPORTED
 * when the platform cannot tell.  No message: the caller refuses.
 */
int loopback_peer_uid(const struct sockaddr_in *peer,
    const struct sockaddr_in *local_addr, uid_t *uid) JANEE_WUR;

#endif
