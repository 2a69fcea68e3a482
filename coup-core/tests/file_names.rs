//! Property test of the file-name rule (the names uploads are shown under):
//! whatever a client sends as a multipart file name, the rule either refuses it
//! with `VALIDATION` on `file`, or returns a name that is one path component,
//! 1–255 characters, free of control and bidirectional formatting characters,
//! never `.` or `..`, and that the rule keeps as it is. (A deterministic,
//! in-process stand-in for `cargo fuzz`, which needs a nightly toolchain.)

use coup_core::ErrorCode;
use coup_core::validate::{file_name, is_bidi_control};
use proptest::prelude::*;

/// Characters a hostile name is made of: letters of several scripts, path
/// separators and dots, spaces, controls, bidi and other invisible characters,
/// joiners, emoji and line separators.
fn hostile_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => proptest::char::range('a', 'z'),
        2 => prop::sample::select(vec!['.', '/', '\\', ' ', '-', '_', '\t', '\n', '\r', '\0']),
        2 => prop::sample::select(vec![
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}', '\u{200B}', '\u{FEFF}',
            '\u{00AD}', '\u{2060}', '\u{200D}', '\u{200C}', '\u{2028}', '\u{2029}', '\u{7F}',
            '\u{85}', '\u{9B}', '\u{3000}', '\u{A0}',
        ]),
        2 => prop::sample::select(vec!['스', '터', '디', 'م', 'س', 'ت', 'я', '😀', '🎉', 'é']),
        1 => any::<char>(),
    ]
}

fn hostile_name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::collection::vec(hostile_char(), 0..40).prop_map(|cs| cs.into_iter().collect()),
        1 => prop::collection::vec(hostile_char(), 200..300).prop_map(|cs| cs.into_iter().collect()),
        1 => ".*".prop_map(|s: String| s),
    ]
}

proptest! {
    // A fixed seed: every run (and CI) tries the same 4,000 names per property.
    #![proptest_config(ProptestConfig {
        cases: 4000,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0xC0FF_EE13),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn every_name_is_refused_or_made_safe(raw in hostile_name()) {
        match file_name(&raw) {
            Err(e) => {
                prop_assert_eq!(e.code(), ErrorCode::Validation);
                prop_assert_eq!(e.field(), Some("file"));
            }
            Ok(name) => {
                let len = name.chars().count();
                prop_assert!((1..=255).contains(&len), "{:?} -> {:?}", raw, name);
                prop_assert!(!name.contains(['/', '\\']), "{:?} -> {:?}", raw, name);
                prop_assert!(name != "." && name != "..");
                prop_assert!(
                    !name.chars().any(|c| c.is_control() || is_bidi_control(c)),
                    "{:?} -> {:?}", raw, name
                );
                prop_assert_eq!(name.trim(), name.as_str());
                prop_assert_eq!(file_name(&name).ok(), Some(name.clone()), "stable");
            }
        }
    }

    #[test]
    fn a_plain_name_survives_unchanged(stem in "[a-z0-9가-힣][a-z0-9 _가-힣-]{0,40}[a-z0-9]", ext in "[a-z]{1,5}") {
        let name = format!("{stem}.{ext}");
        prop_assert_eq!(file_name(&name).ok(), Some(name.clone()));
        // The same name behind a path, and sprinkled with bidi controls, comes
        // out the same.
        let disguised: String = name.chars().flat_map(|c| [c, '\u{202E}']).collect();
        prop_assert_eq!(file_name(&format!("../x/{disguised}")).ok(), Some(name));
    }
}
