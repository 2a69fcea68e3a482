//! Input validation shared by every operation: one rule per kind of field, with
//! messages written for the person who typed the value.

use crate::error::{Error, Reason, Result};

/// Longest accepted email address (RFC 5321 path limit).
pub const EMAIL_MAX: usize = 254;
/// Shortest accepted password.
pub const PASSWORD_MIN: usize = 8;
/// Longest accepted password (argon2 input stays bounded).
pub const PASSWORD_MAX: usize = 128;
/// Longest chat message, in characters.
pub const CHAT_MAX: usize = 4_000;
/// Largest accepted upload, in bytes (50 MB).
pub const FILE_MAX_BYTES: u64 = 50 * 1024 * 1024;

/// Longest client id (a sender's idempotency key), in ASCII characters.
pub const CLIENT_ID_MAX: usize = 64;

/// An optional client id: the key that makes resending a chat message or a task
/// creation safe. 1–64 printable ASCII characters.
pub fn client_id(value: Option<&str>) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(v)
            if v.is_empty()
                || v.len() > CLIENT_ID_MAX
                || !v.chars().all(|c| c.is_ascii_graphic()) =>
        {
            Err(Error::validation(
                "clientId",
                "must be 1–64 printable ASCII characters",
            ))
        }
        Some(v) => Ok(Some(v.to_owned())),
    }
}

/// A required single-line text: trimmed, between `min` and `max` characters.
pub fn text(field: &'static str, value: &str, min: usize, max: usize) -> Result<String> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len < min.max(1) {
        return Err(Error::validation(field, "must not be empty"));
    }
    if len < min {
        return Err(Error::validation(
            field,
            format!("must be at least {min} characters"),
        ));
    }
    if len > max {
        return Err(Error::validation(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Error::validation(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// An optional text: `None` or blank becomes `None`, anything else must pass [`text`].
pub fn optional_text(
    field: &'static str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => text(field, v, 1, max).map(Some),
    }
}

/// An email address, normalised to lower case (emails are unique case-insensitively).
pub fn email(value: &str) -> Result<String> {
    let email = value.trim().to_lowercase();
    let invalid = || {
        Error::validation(
            "email",
            "is not a valid email address (like name@example.com)",
        )
    };
    if email.is_empty() {
        return Err(Error::validation("email", "must not be empty"));
    }
    if email.len() > EMAIL_MAX {
        return Err(Error::validation(
            "email",
            format!("must be at most {EMAIL_MAX} characters"),
        ));
    }
    let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
    if local_ok && domain_ok {
        Ok(email)
    } else {
        Err(invalid())
    }
}

/// The lowest zxcvbn score a new password must reach: 3, "safely unguessable"
/// (about 10^10 guesses).
pub const PASSWORD_MIN_SCORE: u8 = 3;

/// How much of a password the strength estimate reads: its cost grows steeply
/// with length (a random 128-character password takes ~25 times as long as a
/// 64-character one), and 64 characters that are easy to guess are not made
/// safe by what follows them.
pub const PASSWORD_ESTIMATE_CHARS: usize = 64;

/// A new password: 8–128 characters with at least one letter and one digit, not
/// the email address, and hard to guess by zxcvbn's estimate (its lists of common
/// passwords, words and names, keyboard patterns, repeats, sequences and dates,
/// and the user's own email) — at least [`PASSWORD_MIN_SCORE`]. A refusal says
/// why, in zxcvbn's words.
pub fn password(value: &str, email: &str) -> Result<()> {
    let len = value.chars().count();
    if len < PASSWORD_MIN {
        return Err(Error::validation(
            "password",
            format!("must be at least {PASSWORD_MIN} characters"),
        ));
    }
    if len > PASSWORD_MAX {
        return Err(Error::validation(
            "password",
            format!("must be at most {PASSWORD_MAX} characters"),
        ));
    }
    if !value.chars().any(char::is_alphabetic) || !value.chars().any(|c| c.is_ascii_digit()) {
        return Err(Error::validation(
            "password",
            "must contain at least one letter and one digit",
        ));
    }
    let lowered = value.to_lowercase();
    let local = email.split('@').next().unwrap_or_default();
    if lowered == email || lowered == local {
        return Err(Error::validation(
            "password",
            "must not be your email address",
        ));
    }
    let estimated: String = value.chars().take(PASSWORD_ESTIMATE_CHARS).collect();
    let estimate = zxcvbn::zxcvbn(&estimated, &[email, local]);
    if u8::from(estimate.score()) < PASSWORD_MIN_SCORE {
        let feedback = estimate.feedback();
        let why = feedback
            .and_then(zxcvbn::feedback::Feedback::warning)
            .map_or_else(
                || "It would be guessed quickly.".to_owned(),
                |w| w.to_string(),
            );
        let tip = feedback
            .and_then(|f| f.suggestions().first())
            .map(|s| format!(" {s}"))
            .unwrap_or_default();
        return Err(
            Error::validation("password", format!("is too easy to guess: {why}{tip}"))
                .because(Reason::WeakPassword),
        );
    }
    Ok(())
}

/// An optional http(s) URL such as an avatar.
pub fn optional_url(field: &'static str, value: Option<&str>) -> Result<Option<String>> {
    let Some(url) = optional_text(field, value, 2048)? else {
        return Ok(None);
    };
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.contains(char::is_whitespace)
    {
        return Err(Error::validation(field, "must be an http(s) URL"));
    }
    Ok(Some(url))
}

/// Study tags: at most 10, each 1–20 characters, lower-cased, duplicates removed.
pub fn tags(values: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for raw in values {
        let tag = text("tags", raw, 1, 20)?.to_lowercase();
        if tag.contains(char::is_whitespace) {
            return Err(Error::validation("tags", "a tag must be one word"));
        }
        if !out.contains(&tag) {
            out.push(tag);
        }
    }
    if out.len() > 10 {
        return Err(Error::validation("tags", "at most 10 tags"));
    }
    Ok(out)
}

/// Whether `c` is a bidirectional formatting character: embeddings and
/// overrides (U+202A–U+202E), isolates (U+2066–U+2069) and the directional
/// marks (U+200E, U+200F, U+061C). In a file name they make it display as
/// something else (`invoice\u{202E}fdp.exe` shows as `invoiceexe.pdf`).
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Characters that show nothing and are dropped from file names: bidirectional
/// controls, zero-width space, word joiner, byte-order mark, soft hyphen and the
/// invisible operators (U+2061–U+2064). Zero-width (non-)joiners stay: emoji
/// sequences and Persian spelling need them.
fn is_invisible(c: char) -> bool {
    is_bidi_control(c)
        || matches!(
            c,
            '\u{200B}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
        )
}

/// A file name as shown to people: the last path component, 1–255 characters.
/// Control characters and line breaks are refused; bidirectional controls and
/// other invisible characters are removed (so a name shows as what it is). Never
/// used as a storage path.
pub fn file_name(value: &str) -> Result<String> {
    if value
        .chars()
        .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
    {
        return Err(Error::validation(
            "file",
            "a file name must not contain control characters or line breaks",
        ));
    }
    let visible: String = value.chars().filter(|c| !is_invisible(*c)).collect();
    let base = visible
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim();
    if base == "." || base == ".." {
        return Err(Error::validation("file", "is not a valid file name"));
    }
    text("file", base, 1, 255)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_trims_and_bounds_length_in_characters() {
        assert_eq!(text("name", "  알고리즘  ", 1, 5).expect("ok"), "알고리즘");
        assert_eq!(
            text("name", "   ", 1, 5).expect_err("blank").field(),
            Some("name")
        );
        assert!(text("name", "123456", 1, 5).is_err());
        assert!(text("name", "ab", 3, 5).is_err());
        assert!(text("name", "a\u{0}b", 1, 5).is_err());
        assert_eq!(optional_text("bio", Some("  "), 5).expect("blank"), None);
    }

    #[test]
    fn emails() {
        assert_eq!(email(" Kim@Example.COM ").expect("ok"), "kim@example.com");
        for bad in [
            "",
            "kim",
            "kim@",
            "@example.com",
            "kim@example",
            "kim@@example.com",
            "k im@example.com",
            "kim@exa mple.com",
            ".kim@example.com",
            "kim@example..com",
        ] {
            assert!(email(bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(email(&long).is_err());
    }

    #[test]
    fn passwords() {
        password("study-together-42", "kim@example.com").expect("the demo password is fine");
        password("correct horse 7", "kim@example.com").expect("a passphrase is fine");
        for (bad, why) in [
            ("short1", "at least 8"),
            ("onlyletters", "letter and one digit"),
            ("1234567890", "letter and one digit"),
            ("kim12345", "email"),
            (
                "password1",
                "too easy to guess: This is a very common password.",
            ),
            ("password123", "very common password"),
            ("aaaaaaa1", "too easy to guess"),
            ("aaaaaaaaaaaaaaaa1", "Repeats like \"aaa\""),
            ("qwertyuiop1", "too easy to guess"),
            ("abcdefgh123", "too easy to guess"),
        ] {
            let err = password(bad, "kim12345@example.com").expect_err(bad);
            assert_eq!(err.field(), Some("password"));
            assert!(err.to_string().contains(why), "{bad}: {err}");
        }
        assert!(password(&"a1".repeat(65), "x@y.z").is_err());
    }

    #[test]
    fn long_passwords_are_estimated_quickly() {
        let started = std::time::Instant::now();
        let random: String = (0..128u32)
            .map(|i| char::from(b'!' + u8::try_from((i * 37 + 11) % 90).unwrap_or(0)))
            .collect();
        password(&random, "kim@example.com").expect("random is strong");
        for candidate in ["a1".repeat(64), "1".repeat(127) + "a", "😀1".repeat(64)] {
            assert!(
                password(&candidate, "kim@example.com").is_err(),
                "{candidate}"
            );
        }
        assert!(
            started.elapsed() < std::time::Duration::from_millis(500),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn tags_and_urls() {
        let t = tags(&["Rust".into(), "rust".into(), "알고리즘".into()]).expect("ok");
        assert_eq!(t, vec!["rust", "알고리즘"]);
        assert!(tags(&["two words".into()]).is_err());
        assert!(tags(&(0..11).map(|i| format!("t{i}")).collect::<Vec<_>>()).is_err());
        assert!(optional_url("avatarUrl", Some("javascript:alert(1)")).is_err());
        assert_eq!(
            optional_url("avatarUrl", Some("https://x.test/a.png"))
                .expect("ok")
                .as_deref(),
            Some("https://x.test/a.png")
        );
    }

    #[test]
    fn file_names_lose_their_paths() {
        assert_eq!(file_name("../../etc/passwd").expect("ok"), "passwd");
        assert_eq!(
            file_name("C:\\tmp\\스터디 자료.pdf").expect("ok"),
            "스터디 자료.pdf"
        );
        assert!(file_name("..").is_err());
        assert!(file_name("dir/").is_err());
        assert!(file_name(&"a".repeat(256)).is_err());
    }

    #[test]
    fn file_names_lose_bidirectional_controls_and_refuse_control_characters() {
        assert_eq!(
            file_name("invoice\u{202E}fdp.exe").expect("stripped"),
            "invoicefdp.exe",
            "shows as what it is"
        );
        for bidi in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
        ] {
            assert!(is_bidi_control(bidi));
            let name = format!("a{bidi}b.txt");
            assert_eq!(file_name(&name).expect("stripped"), "ab.txt", "{:?}", bidi);
        }
        assert_eq!(
            file_name("\u{FEFF}zero\u{200B}width.txt").expect("ok"),
            "zerowidth.txt"
        );
        assert_eq!(
            file_name("👨\u{200D}👩\u{200D}👧.png").expect("joiners stay"),
            "👨\u{200D}👩\u{200D}👧.png"
        );
        assert_eq!(file_name("مستند\u{200F}.pdf").expect("ok"), "مستند.pdf");
        for bad in [
            "a\nb.txt",
            "tab\there.txt",
            "nul\u{0}.txt",
            "del\u{7f}.txt",
            "line\u{2028}.txt",
            "\u{9b}x.txt",
        ] {
            let err = file_name(bad).expect_err(bad);
            assert_eq!(err.field(), Some("file"));
            assert!(err.to_string().contains("control characters"), "{err}");
        }
        assert!(file_name("\u{202E}\u{202C}").is_err(), "nothing left");
        assert!(file_name("\u{202E}..").is_err());
    }
}
