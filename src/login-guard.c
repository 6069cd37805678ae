/* A provider's login, checked before a person sees it (login-guard.h). */
#include "common.h"

#include "login-guard.h"
#include "subprocess.h"
#include "util.h"

/* Check url; on refusal keep the message (the provider may clear it). */
static int
refuse_bad(struct login_guard *g, const char *url, const char *what)
{
	int rc;

	if (g->refused)
		return 1;
	if ((rc = janee_url_check(url, what)) == 0)
		return 0;
	snprintf(g->why, sizeof(g->why), "%s", janee_err_msg(rc));
	janee_err_clear();
	g->refused = rc;
	return 1;
}

static void
guard_show_code(void *arg, const char *user_code, const char *uri,
    const char *uri_complete, int64_t expires_in)
{
	struct login_guard *g = arg;
	char *code;

	if (refuse_bad(g, uri, "the provider's verification_uri") ||
	    (uri_complete != NULL &&
		refuse_bad(g, uri_complete,
		    "the provider's verification_uri_complete")))
		return;
	if ((code = janee_text_escape(user_code)) == NULL) {
		g->refused = JANEE_ERR_NOMEM;
		snprintf(g->why, sizeof(g->why), "out of memory");
		janee_err_clear();
		return;
	}
	g->front->show_code(g->front->arg, code, uri, uri_complete, expires_in);
	free(code);
}

static void
guard_show_url(void *arg, const char *url)
{
	struct login_guard *g = arg;

	if (!refuse_bad(g, url, "the address to approve the login at"))
		g->front->show_url(g->front->arg, url);
}

/* A refused address ends the login at its next wait. */
static int
guard_waiting(void *arg)
{
	struct login_guard *g = arg;

	if (g->refused)
		return 1;
	return g->front->waiting != NULL ? g->front->waiting(g->front->arg) : 0;
}

void
login_guard_init(struct login_guard *g, const struct janee_login_ui *front)
{
	memset(g, 0, sizeof(*g));
	g->front = front;
	g->ui = *front;
	g->ui.arg = g;
	g->ui.show_code = front->show_code ? guard_show_code : NULL;
	g->ui.show_url = front->show_url ? guard_show_url : NULL;
	g->ui.waiting = guard_waiting;
}

int
login_guard_end(struct login_guard *g, int rc)
{
	if (!g->refused)
		return rc;
	janee_err_clear();
	return janee_err_set(g->refused, "%s", g->why);
}
