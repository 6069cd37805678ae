/* Desktop notifications over the session bus (notify.h). */
#include "common.h"

#include <unistd.h>

#include "notify.h"

void
notify_plain(const char *in, char *out, size_t outsz)
{
	size_t j = 0;

	for (; in != NULL && *in != '\0' && j + 1 < outsz; in++)
		if ((*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z') ||
		    (*in >= '0' && *in <= '9') || strchr(" ._/@+-", *in))
			out[j++] = *in;
	if (outsz > 0)
		out[j] = '\0';
}

#ifdef HAVE_GIO

#include <sys/stat.h>

#include <gio/gio.h>

#include "lazylib.h"

/*
 * GIO, GObject and GLib through libgio, opened on first use: dlsym on
 * its handle finds the symbols of the libraries it depends on too.
 */
enum {
	BUS_GET_SYNC,
	CALL,
	CALL_FINISH,
	FLUSH_SYNC,
	SIGNAL_SUBSCRIBE,
	VARIANT_NEW,
	VARIANT_NEW_STRV,
	VARIANT_NEW_PARSED,
	VARIANT_GET,
	VARIANT_UNREF,
	CTX_NEW,
	CTX_UNREF,
	CTX_PUSH,
	CTX_POP,
	CTX_ACQUIRE,
	CTX_RELEASE,
	CTX_PREPARE,
	CTX_QUERY,
	CTX_CHECK,
	CTX_DISPATCH,
	OBJECT_UNREF,
	ERROR_FREE,
	NSYMS
};

static const char *const syms[] = {
	[BUS_GET_SYNC] = "g_bus_get_sync",
	[CALL] = "g_dbus_connection_call",
	[CALL_FINISH] = "g_dbus_connection_call_finish",
	[FLUSH_SYNC] = "g_dbus_connection_flush_sync",
	[SIGNAL_SUBSCRIBE] = "g_dbus_connection_signal_subscribe",
	[VARIANT_NEW] = "g_variant_new",
	[VARIANT_NEW_STRV] = "g_variant_new_strv",
	[VARIANT_NEW_PARSED] = "g_variant_new_parsed",
	[VARIANT_GET] = "g_variant_get",
	[VARIANT_UNREF] = "g_variant_unref",
	[CTX_NEW] = "g_main_context_new",
	[CTX_UNREF] = "g_main_context_unref",
	[CTX_PUSH] = "g_main_context_push_thread_default",
	[CTX_POP] = "g_main_context_pop_thread_default",
	[CTX_ACQUIRE] = "g_main_context_acquire",
	[CTX_RELEASE] = "g_main_context_release",
	[CTX_PREPARE] = "g_main_context_prepare",
	[CTX_QUERY] = "g_main_context_query",
	[CTX_CHECK] = "g_main_context_check",
	[CTX_DISPATCH] = "g_main_context_dispatch",
	[OBJECT_UNREF] = "g_object_unref",
	[ERROR_FREE] = "g_error_free",
	[NSYMS] = NULL,
};

static const char *const files[] = { JANEE_GIO_SONAME,
	JANEE_GIO_LIBDIR "/" JANEE_GIO_SONAME, NULL };

static void *addr[NSYMS];

static struct lazylib libgio = { "libgio", files, syms, addr, 0, "" };

/* The calls, typed as GLib declares them. */
static struct {
	GDBusConnection *(*bus_get_sync)(GBusType, GCancellable *, GError **);
	void (*call)(GDBusConnection *, const gchar *, const gchar *,
	    const gchar *, const gchar *, GVariant *, const GVariantType *,
	    GDBusCallFlags, gint, GCancellable *, GAsyncReadyCallback,
	    gpointer);
	GVariant *(*call_finish)(GDBusConnection *, GAsyncResult *, GError **);
	gboolean (*flush_sync)(GDBusConnection *, GCancellable *, GError **);
	guint (*signal_subscribe)(GDBusConnection *, const gchar *,
	    const gchar *, const gchar *, const gchar *, const gchar *,
	    GDBusSignalFlags, GDBusSignalCallback, gpointer, GDestroyNotify);
	GVariant *(*variant_new)(const gchar *, ...);
	GVariant *(*variant_new_strv)(const gchar *const *, gssize);
	GVariant *(*variant_new_parsed)(const gchar *, ...);
	void (*variant_get)(GVariant *, const gchar *, ...);
	void (*variant_unref)(GVariant *);
	GMainContext *(*ctx_new)(void);
	void (*ctx_unref)(GMainContext *);
	void (*ctx_push)(GMainContext *);
	void (*ctx_pop)(GMainContext *);
	gboolean (*ctx_acquire)(GMainContext *);
	void (*ctx_release)(GMainContext *);
	gboolean (*ctx_prepare)(GMainContext *, gint *);
	gint (*ctx_query)(GMainContext *, gint, gint *, GPollFD *, gint);
	gboolean (*ctx_check)(GMainContext *, gint, GPollFD *, gint);
	void (*ctx_dispatch)(GMainContext *);
	void (*object_unref)(gpointer);
	void (*error_free)(GError *);
} fn;

static int
load(void)
{
	int rc;

	if ((rc = lazylib_load(&libgio)) != 0)
		return rc;
	fn.bus_get_sync =
	    (GDBusConnection * (*)(GBusType, GCancellable *, GError **))
		addr[BUS_GET_SYNC];
	fn.call = (void (*)(GDBusConnection *, const gchar *, const gchar *,
	    const gchar *, const gchar *, GVariant *, const GVariantType *,
	    GDBusCallFlags, gint, GCancellable *, GAsyncReadyCallback,
	    gpointer))addr[CALL];
	fn.call_finish =
	    (GVariant * (*)(GDBusConnection *, GAsyncResult *, GError **))
		addr[CALL_FINISH];
	fn.flush_sync = (gboolean(*)(
	    GDBusConnection *, GCancellable *, GError **))addr[FLUSH_SYNC];
	fn.signal_subscribe = (guint(*)(GDBusConnection *, const gchar *,
	    const gchar *, const gchar *, const gchar *, const gchar *,
	    GDBusSignalFlags, GDBusSignalCallback, gpointer,
	    GDestroyNotify))addr[SIGNAL_SUBSCRIBE];
	fn.variant_new = (GVariant * (*)(const gchar *, ...)) addr[VARIANT_NEW];
	fn.variant_new_strv = (GVariant * (*)(const gchar *const *, gssize))
	    addr[VARIANT_NEW_STRV];
	fn.variant_new_parsed =
	    (GVariant * (*)(const gchar *, ...)) addr[VARIANT_NEW_PARSED];
	fn.variant_get =
	    (void (*)(GVariant *, const gchar *, ...))addr[VARIANT_GET];
	fn.variant_unref = (void (*)(GVariant *))addr[VARIANT_UNREF];
	fn.ctx_new = (GMainContext * (*)(void)) addr[CTX_NEW];
	fn.ctx_unref = (void (*)(GMainContext *))addr[CTX_UNREF];
	fn.ctx_push = (void (*)(GMainContext *))addr[CTX_PUSH];
	fn.ctx_pop = (void (*)(GMainContext *))addr[CTX_POP];
	fn.ctx_acquire = (gboolean(*)(GMainContext *))addr[CTX_ACQUIRE];
	fn.ctx_release = (void (*)(GMainContext *))addr[CTX_RELEASE];
	fn.ctx_prepare = (gboolean(*)(GMainContext *, gint *))addr[CTX_PREPARE];
	fn.ctx_query = (gint(*)(
	    GMainContext *, gint, gint *, GPollFD *, gint))addr[CTX_QUERY];
	fn.ctx_check =
	    (gboolean(*)(GMainContext *, gint, GPollFD *, gint))addr[CTX_CHECK];
	fn.ctx_dispatch = (void (*)(GMainContext *))addr[CTX_DISPATCH];
	fn.object_unref = (void (*)(gpointer))addr[OBJECT_UNREF];
	fn.error_free = (void (*)(GError *))addr[ERROR_FREE];
	return 0;
}

#define NOTIFY_SLOTS 16
#define NOTIFY_MAX_FDS 8

struct shown {
	char tag[40]; /* "" when free */
	uint32_t id; /* the server's id; 0 until Notify answered */
	int closing; /* closed before the answer came */
	notify_action_fn on_action;
	void *arg;
};

struct notifier {
	int state; /* 0 not tried, 1 connected, -1 no bus or no GIO */
	GMainContext *ctx;
	GDBusConnection *bus;
	struct shown shown[NOTIFY_SLOTS];
	int prio;
	GPollFD gfds[NOTIFY_MAX_FDS];
	int ngfds;
	int acquired;
};

#define NOTIFY_NAME "org.freedesktop.Notifications"
#define NOTIFY_PATH "/org/freedesktop/Notifications"

struct notifier *
notifier_new(void)
{
	return calloc(1, sizeof(struct notifier));
}

static struct shown *
by_id(struct notifier *n, uint32_t id)
{
	size_t i;

	for (i = 0; id != 0 && i < NOTIFY_SLOTS; i++)
		if (n->shown[i].tag[0] != '\0' && n->shown[i].id == id)
			return &n->shown[i];
	return NULL;
}

static void
on_signal(GDBusConnection *c, const gchar *sender, const gchar *path,
    const gchar *iface, const gchar *signal, GVariant *params, gpointer arg)
{
	struct notifier *n = arg;
	const gchar *key = NULL;
	struct shown *s;
	char tag[40];
	guint32 id = 0, why;

	(void)c;
	(void)sender;
	(void)path;
	(void)iface;
	if (strcmp(signal, "ActionInvoked") == 0) {
		fn.variant_get(params, "(u&s)", &id, &key);
		if ((s = by_id(n, id)) != NULL && s->on_action != NULL) {
			/* The callback may close it: keep the tag. */
			snprintf(tag, sizeof(tag), "%s", s->tag);
			s->on_action(s->arg, tag);
		}
	} else if (strcmp(signal, "NotificationClosed") == 0) {
		fn.variant_get(params, "(uu)", &id, &why);
		if ((s = by_id(n, id)) != NULL)
			memset(s, 0, sizeof(*s));
	}
}

/* The session bus, if there is one; janee never starts one. */
static int
connect_bus(struct notifier *n)
{
	const char *addr_env = getenv("DBUS_SESSION_BUS_ADDRESS");
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char path[512];
	struct stat st;
	GError *e = NULL;

	if (n->state != 0)
		return n->state > 0 ? 0 : JANEE_ERR_UNSUPPORTED;
	n->state = -1;
	if (addr_env == NULL || *addr_env == '\0') {
		/* GLib would run dbus-launch without one of these. */
		if (rt == NULL ||
		    snprintf(path, sizeof(path), "%s/bus", rt) >=
			(int)sizeof(path) ||
		    stat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
			return JANEE_ERR_UNSUPPORTED;
	}
	if (load() != 0) {
		janee_err_clear();
		return JANEE_ERR_UNSUPPORTED;
	}
	if ((n->ctx = fn.ctx_new()) == NULL)
		return JANEE_ERR_UNSUPPORTED;
	fn.ctx_push(n->ctx);
	n->bus = fn.bus_get_sync(G_BUS_TYPE_SESSION, NULL, &e);
	if (n->bus != NULL)
		fn.signal_subscribe(n->bus, NOTIFY_NAME, NOTIFY_NAME, NULL,
		    NOTIFY_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE, on_signal, n,
		    NULL);
	fn.ctx_pop(n->ctx);
	if (n->bus == NULL) {
		if (e != NULL)
			fn.error_free(e);
		return JANEE_ERR_UNSUPPORTED;
	}
	n->acquired = fn.ctx_acquire(n->ctx);
	n->state = 1;
	return 0;
}

struct sent {
	struct notifier *n;
	char tag[40];
};

static void
close_id(struct notifier *n, uint32_t id)
{
	fn.ctx_push(n->ctx);
	fn.call(n->bus, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_NAME,
	    "CloseNotification", fn.variant_new("(u)", (guint32)id), NULL,
	    G_DBUS_CALL_FLAGS_NONE, 2000, NULL, NULL, NULL);
	fn.ctx_pop(n->ctx);
}

/* Notify answered: the id, or an error (no server: said nowhere). */
static void
on_sent(GObject *src, GAsyncResult *res, gpointer arg)
{
	struct sent *sd = arg;
	struct notifier *n = sd->n;
	GError *e = NULL;
	GVariant *v;
	guint32 id = 0;
	size_t i;

	v = fn.call_finish((GDBusConnection *)src, res, &e);
	if (v != NULL) {
		fn.variant_get(v, "(u)", &id);
		fn.variant_unref(v);
	} else if (e != NULL)
		fn.error_free(e);
	for (i = 0; i < NOTIFY_SLOTS; i++) {
		struct shown *s = &n->shown[i];

		if (s->tag[0] == '\0' || s->id != 0 ||
		    strcmp(s->tag, sd->tag) != 0)
			continue;
		if (id == 0 || s->closing) {
			if (id != 0)
				close_id(n, id);
			memset(s, 0, sizeof(*s));
		} else
			s->id = id;
		break;
	}
	free(sd);
}

int
notifier_send(struct notifier *n, const char *tag, const char *title,
    const char *body, notify_action_fn on_action, void *arg)
{
	static const char *const actions[] = { "default", "Review", "open",
		"Review", NULL };
	struct shown *s = NULL;
	struct sent *sd;
	GVariant *params;
	size_t i;

	if (n == NULL || connect_bus(n) != 0)
		return JANEE_ERR_UNSUPPORTED;
	for (i = 0; i < NOTIFY_SLOTS && s == NULL; i++)
		if (n->shown[i].tag[0] == '\0')
			s = &n->shown[i];
	if (s == NULL || (sd = calloc(1, sizeof(*sd))) == NULL)
		return JANEE_ERR_NOMEM;
	snprintf(s->tag, sizeof(s->tag), "%s", tag);
	s->on_action = on_action;
	s->arg = arg;
	sd->n = n;
	snprintf(sd->tag, sizeof(sd->tag), "%s", tag);
	/* Notify (app_name, replaces_id, app_icon, summary, body, actions,
	 * hints, expire_timeout): -1 lets the server decide. */
	params = fn.variant_new("(susss@as@a{sv}i)", "janee", (guint32)0,
	    "dialog-password", title, body, fn.variant_new_strv(actions, -1),
	    fn.variant_new_parsed("{'urgency': <byte 1>}"), (gint32)-1);
	fn.ctx_push(n->ctx);
	fn.call(n->bus, NOTIFY_NAME, NOTIFY_PATH, NOTIFY_NAME, "Notify", params,
	    (const GVariantType *)"(u)", G_DBUS_CALL_FLAGS_NONE, 5000, NULL,
	    on_sent, sd);
	fn.ctx_pop(n->ctx);
	return 0;
}

void
notifier_close(struct notifier *n, const char *tag)
{
	size_t i;

	if (n == NULL || n->state <= 0)
		return;
	for (i = 0; i < NOTIFY_SLOTS; i++) {
		struct shown *s = &n->shown[i];

		if (s->tag[0] == '\0' || strcmp(s->tag, tag) != 0)
			continue;
		if (s->id == 0) {
			s->closing = 1; /* when Notify answers */
			continue;
		}
		close_id(n, s->id);
		memset(s, 0, sizeof(*s));
	}
}

int
notifier_pollfds(
    struct notifier *n, struct pollfd *fds, int max, int64_t *timeout_ms)
{
	gint t = -1, k, i;

	n->ngfds = 0;
	if (n->state <= 0 || !n->acquired)
		return 0;
	fn.ctx_prepare(n->ctx, &n->prio);
	k = fn.ctx_query(n->ctx, n->prio, &t, n->gfds, NOTIFY_MAX_FDS);
	if (k > NOTIFY_MAX_FDS)
		k = NOTIFY_MAX_FDS;
	if (k > max)
		k = max;
	for (i = 0; i < k; i++) {
		fds[i].fd = n->gfds[i].fd;
		fds[i].events = (short)n->gfds[i].events;
		fds[i].revents = 0;
	}
	n->ngfds = k;
	if (t >= 0 && (*timeout_ms < 0 || t < *timeout_ms))
		*timeout_ms = t;
	return k;
}

void
notifier_dispatch(struct notifier *n, const struct pollfd *fds, int nfds)
{
	int i;

	if (n == NULL || n->state <= 0 || !n->acquired)
		return;
	for (i = 0; i < n->ngfds && i < nfds; i++)
		n->gfds[i].revents = (gushort)fds[i].revents;
	if (fn.ctx_check(n->ctx, n->prio, n->gfds, n->ngfds))
		fn.ctx_dispatch(n->ctx);
}

void
notifier_free(struct notifier *n)
{
	if (n == NULL)
		return;
	if (n->state > 0) {
		/* What was said last (CloseNotification) goes out first. */
		fn.flush_sync(n->bus, NULL, NULL);
		if (n->acquired)
			fn.ctx_release(n->ctx);
		fn.object_unref(n->bus);
		fn.ctx_unref(n->ctx);
	}
	free(n);
}

#else /* !HAVE_GIO: no notifications; a waiting request is said on stderr */

struct notifier {
	int unused;
};

struct notifier *
notifier_new(void)
{
	return calloc(1, sizeof(struct notifier));
}

void
notifier_free(struct notifier *n)
{
	free(n);
}

int
notifier_send(struct notifier *n, const char *tag, const char *title,
    const char *body, notify_action_fn on_action, void *arg)
{
	(void)n;
	(void)tag;
	(void)title;
	(void)body;
	(void)on_action;
	(void)arg;
	return JANEE_ERR_UNSUPPORTED;
}

void
notifier_close(struct notifier *n, const char *tag)
{
	(void)n;
	(void)tag;
}

int
notifier_pollfds(
    struct notifier *n, struct pollfd *fds, int max, int64_t *timeout_ms)
{
	(void)n;
	(void)fds;
	(void)max;
	(void)timeout_ms;
	return 0;
}

void
notifier_dispatch(struct notifier *n, const struct pollfd *fds, int nfds)
{
	(void)n;
	(void)fds;
	(void)nfds;
}

#endif
