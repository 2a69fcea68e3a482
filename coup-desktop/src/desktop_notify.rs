//! Native OS notifications for the notifications a user must not miss — a
//! mention, a join request to approve — shown only while the app's window is
//! not focused (in the window the badge and the list say it). On Linux they go
//! over D-Bus (`org.freedesktop.Notifications`) with `notify-rust` on the same
//! libdbus the keyring uses; with no notification service (a bare Xvfb) the
//! failure is logged and nothing else happens.

use coup_core::client::AppEvent;
use coup_core::model::NotificationKind;

/// What to show for an app event (title, body), or `None`.
pub fn os_notification(event: &AppEvent, window_focused: bool) -> Option<(String, String)> {
    if window_focused {
        return None;
    }
    match event {
        AppEvent::Notification { notification }
            if matches!(
                notification.kind,
                NotificationKind::Mention | NotificationKind::JoinRequest
            ) =>
        {
            Some((notification.title.clone(), notification.body.clone()))
        }
        _ => None,
    }
}

/// Shows one notification on a thread of its own (the D-Bus call blocks).
pub fn show(title: String, body: String) {
    std::thread::spawn(move || {
        if let Err(e) = notify_rust::Notification::new()
            .appname("CoUp")
            .summary(&title)
            .body(&body)
            .show()
        {
            tracing::info!(error = %e, "no OS notification service answered");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use coup_core::ids::{NotificationId, UserId};
    use coup_core::model::Notification;

    fn event(kind: NotificationKind) -> AppEvent {
        AppEvent::Notification {
            notification: Notification {
                id: NotificationId::new(),
                user_id: UserId::new(),
                kind,
                title: "Mina mentioned you".into(),
                body: "@minsu look".into(),
                study_id: None,
                ref_id: None,
                is_read: false,
                created_at: chrono::Utc::now(),
            },
        }
    }

    #[test]
    fn mentions_and_join_requests_only_while_unfocused() {
        assert_eq!(
            os_notification(&event(NotificationKind::Mention), false),
            Some(("Mina mentioned you".into(), "@minsu look".into()))
        );
        assert!(os_notification(&event(NotificationKind::JoinRequest), false).is_some());
        assert!(os_notification(&event(NotificationKind::Mention), true).is_none());
        assert!(os_notification(&event(NotificationKind::NewNotice), false).is_none());
        assert!(os_notification(&AppEvent::CacheRefreshed, false).is_none());
    }
}
