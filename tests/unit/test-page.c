/*
 * Unit tests: the approval page's one HTML escaper (html_put) and the
 * loopback peer's uid (peeruid.c) on real sockets.  The page over HTTP
 * and in a browser is tests/t0800 and t0810.
 */
#include "common.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "approval-page.h"
#include "buf.h"
#include "peeruid.h"

#include "t.h"

static char *
escaped(const char *s, int agent)
{
	struct buf b;
	char *out;

	buf_init(&b, 1 << 20);
	if (html_put(&b, s, agent) != 0)
		abort();
	out = strdup(b.p ? b.p : "");
	buf_free(&b);
	return out;
}

static void
markup_becomes_entities(void)
{
	char *s = escaped("<a href='x'>\"&\"</a>", 0);

	T_EQ_STR(s, "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;");
	free(s);
	s = escaped("plain text, kept", 1);
	T_EQ_STR(s, "plain text, kept");
	free(s);
}

static void
unsafe_agent_characters_are_visible_escapes(void)
{
	/* RLO, ESC, NEL (C1), LRI, a newline, an invalid byte, U+2028. */
	char *s = escaped("a\xe2\x80\xae"
			  "b\x1b[31m\xc2\x85"
			  "c\xe2\x81\xa6"
			  "d\ne\xff"
			  "f\xe2\x80\xa8",
	    1);
	const char *want = "a<span class=\"esc\">\\u202e</span>b"
			   "<span class=\"esc\">\\x1b</span>[31m"
			   "<span class=\"esc\">\\u0085</span>c"
			   "<span class=\"esc\">\\u2066</span>d"
			   "<span class=\"esc\">\\n</span>e"
			   "<span class=\"esc\">\\xff</span>f"
			   "<span class=\"esc\">\\u2028</span>";

	T_EQ_STR(s, want);
	free(s);
	/* Letters of any script and emoji stay as they are. */
	s = escaped("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91", 1);
	T_EQ_STR(s, "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x94\x91");
	free(s);
	/* An overlong '<' is not a '<', and not let through. */
	s = escaped("\xc0\xbc", 1);
	T_EQ_STR(s,
	    "<span class=\"esc\">\\xc0</span><span class=\"esc\">\\xbc</span>");
	free(s);
}

static void
janees_own_text_loses_controls_only(void)
{
	char *s = escaped("line\none\ttab", 0);

	T_EQ_STR(s, "line one tab");
	free(s);
	/* Found by fuzz-html: DEL and invalid UTF-8 kept the page from
	 * being what it says it is (UTF-8 without controls). */
	s = escaped("del\x7f bad\xff caf\xc3\xa9", 0);
	T_EQ_STR(s, "del  bad\xef\xbf\xbd caf\xc3\xa9");
	free(s);
}

static void
the_loopback_peer_is_found_with_our_uid(void)
{
	struct sockaddr_in srv = { .sin_family = AF_INET }, cli, peer;
	socklen_t len = sizeof(srv);
	uid_t uid = (uid_t)-1;
	int l, c, a;

	srv.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	c = socket(AF_INET, SOCK_STREAM, 0);
	T_ASSERT(l >= 0 && c >= 0);
	T_ASSERT(bind(l, (struct sockaddr *)&srv, sizeof(srv)) == 0);
	T_ASSERT(listen(l, 1) == 0);
	T_ASSERT(getsockname(l, (struct sockaddr *)&srv, &len) == 0);
	T_ASSERT(connect(c, (struct sockaddr *)&srv, sizeof(srv)) == 0);
	len = sizeof(peer);
	a = accept(l, (struct sockaddr *)&peer, &len);
	T_ASSERT(a >= 0);
	T_EQ_INT(loopback_peer_uid(&peer, &srv, &uid), 0);
	T_EQ_INT(uid, geteuid());
	/* The client's own view: the same socket. */
	len = sizeof(cli);
	T_ASSERT(getsockname(c, (struct sockaddr *)&cli, &len) == 0);
	T_EQ_INT(cli.sin_port, peer.sin_port);
	/* A peer that is not there. */
	peer.sin_port = htons(1);
	T_EQ_INT(loopback_peer_uid(&peer, &srv, &uid), JANEE_ERR_NOT_FOUND);
	/* Not loopback: nothing to say. */
	peer.sin_addr.s_addr = htonl(0x0a000001);
	T_EQ_INT(loopback_peer_uid(&peer, &srv, &uid), JANEE_ERR_UNSUPPORTED);
	close(a);
	close(c);
	close(l);
}

int
main(void)
{
	T_RUN(markup_becomes_entities);
	T_RUN(unsafe_agent_characters_are_visible_escapes);
	T_RUN(janees_own_text_loses_controls_only);
	T_RUN(the_loopback_peer_is_found_with_our_uid);
	return t_done();
}
