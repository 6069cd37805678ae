/*
 * Desktop notifications: "a request waits for your approval", with an
 * action that opens janee's page.  org.freedesktop.Notifications on the
 * session bus (Desktop Notifications Specification 1.2: Notify,
 * CloseNotification, the ActionInvoked and NotificationClosed signals),
 * through GLib's GDBus, opened on first use (lazylib.h) by the processes
 * that notify.  Quiet when it cannot: no bus (DBUS_SESSION_BUS_ADDRESS
 * unset and no $XDG_RUNTIME_DIR/bus; janee never starts a bus), no
 * notification server on it, or a janee built without GIO.  The title
 * and body never hold a secret, and nothing an agent wrote but a client
 * name reduced to plain characters.
 *
 * GDBus answers in a GMainContext of the notifier's own, which the host
 * polls like any descriptor:
 *   n = notifier_new(); notifier_send(n, tag, title, body, on_action, arg)
 *   loop: k = notifier_pollfds(n, fds, max, &timeout); poll(...);
 *         notifier_dispatch(n, fds, k)
 */
#ifndef JANEE_NOTIFY_H
#define JANEE_NOTIFY_H

#include "common.h"

#include <poll.h>

struct notifier;

/* on_action(arg, tag): the person clicked the notification of tag. */
typedef void (*notify_action_fn)(void *arg, const char *tag);

struct notifier *notifier_new(void);
void notifier_free(struct notifier *n);

/*
 * Show a notification, named tag (a lease id) for notifier_close; the
 * action "Review" (and a click on it) calls on_action.  Returns 0 when
 * it was sent, else an error code with no message (nothing to say: a
 * desktop may have no notifications).
 */
int notifier_send(struct notifier *n, const char *tag, const char *title,
    const char *body, notify_action_fn on_action, void *arg);
/* Take tag's notification off the screen (the request was answered). */
void notifier_close(struct notifier *n, const char *tag);

/* Descriptors to poll (at most max) and a timeout to respect (ms). */
int notifier_pollfds(
    struct notifier *n, struct pollfd *fds, int max, int64_t *timeout_ms);
/* After the poll: deliver what came (answers, clicks). */
void notifier_dispatch(struct notifier *n, const struct pollfd *fds, int nfds);

/* Client text for a notification: letters, digits and " ._/@+-" only. */
void notify_plain(const char *in, char *out, size_t outsz);

#endif
