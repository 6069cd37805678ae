/* An external issuer for team mode (team-issuer.h). */
#include "common.h"

#include "team-issuer.h"

int
team_issuer_open(
    const char *issuer, const char *audience, struct team_issuer **out)
{
	(void)issuer;
	(void)audience;
	*out = NULL;
	return janee_err_set(JANEE_ERR_UNSUPPORTED,
	    "an external token issuer (auth.issuer) is not supported by this janee yet; remove auth.issuer to use janee's own token endpoint");
}

void
team_issuer_free(struct team_issuer *ti)
{
	(void)ti;
}

int
team_issuer_verify(struct team_issuer *ti, const char *token, int64_t now,
    char **agent, const char **why)
{
	(void)ti;
	(void)token;
	(void)now;
	*agent = NULL;
	*why = "no external issuer";
	return -1;
}
