//! The one-pass reader behind [`super::parse`] and the typed `from_slice` readers: it walks a
//! body once and writes each known value straight into a slot, as a position in the kept body
//! where it can. Two readers fill the same slots: the hand-written [`scan`] for bodies in the
//! usual shape, and `serde_json` ([`seed`]) for any other (its errors are the ones callers
//! see). The tests below hold them to the same result.
//!
//! [`top`] and [`receipt`] say which keys the models read and in which slot each goes;
//! [`slot`] how a value is kept.

pub(super) mod receipt;
mod scan;
mod seed;
pub(super) mod slot;
pub(super) mod top;

use serde::de::{self, Deserializer};

use super::error::WebhookError;
use receipt::{NotificationLevel, Optional, WireNotification, scan_notification};
use scan::{Cursor, read_level};
use seed::{Pass, SlotReader, read_seq_slots};
use slot::{Key, Text};
use top::{INBOUND_FIELDS, NOTIFICATION_BIT, inbound_kind, top_key, top_key_for};

/// Reads a body into `wire` in one pass. With `receipt_only`, the top level reads just
/// `deliveryInfoNotification` and the fields a receipt takes beside it.
///
/// A body in the usual shape is read by the hand-written [`scan`]ner; any other (an escaped
/// key, a repeated key, an array, invalid JSON...) is read by `serde_json`, whose errors sort
/// into syntax and shape problems. Both write the same slots, so which one ran never shows.
pub(crate) fn read_wire(
    text: &str,
    wire: &mut Wire,
    receipt_only: bool,
) -> Result<(), WebhookError> {
    if scan_wire(text, wire, receipt_only).is_none() {
        *wire = Wire::default();
        read_pass(text, wire, receipt_only, true).or_else(|_| {
            // The strict pass decodes escaped strings strictly; anything it refuses is read
            // again the lenient way, so errors and edge cases (lone surrogates) stay as they
            // were.
            *wire = Wire::default();
            read_pass(text, wire, receipt_only, false)
        })?;
    }
    if let Some(notification) = wire.notification.as_mut() {
        notification.keep_top(&mut wire.top);
    }
    Ok(())
}

/// The fast reader's pass of [`read_wire`]: `None` hands the body over to [`read_pass`].
fn scan_wire(text: &str, wire: &mut Wire, receipt_only: bool) -> Option<()> {
    let mut cursor = Cursor::new(text);
    cursor.skip_whitespace();
    cursor.open_object()?;
    let Wire { top, notification } = wire;
    let key_of = |key: &str| top_key_for(key, receipt_only);
    read_level(&mut cursor, top, key_of, NOTIFICATION_BIT, |cursor| {
        if cursor.null()? {
            return Some(());
        }
        cursor.open_object()?;
        scan_notification(cursor, notification.insert(WireNotification::default()))
    })?;
    cursor.skip_whitespace();
    cursor.at_end().then_some(())
}

/// One `serde_json` pass of [`read_wire`]; `fast` hands escape-free and escaped strings over
/// directly instead of through their raw text.
fn read_pass(
    text: &str,
    wire: &mut Wire,
    receipt_only: bool,
    fast: bool,
) -> Result<(), WebhookError> {
    let mut de = serde_json::Deserializer::from_str(text);
    de::DeserializeSeed::deserialize(
        TopSeed {
            pass: Pass { body: text, fast },
            wire,
            receipt_only,
        },
        &mut de,
    )
    .and_then(|()| de.end())
    .map_err(|e| classify(text, &e))
}

fn classify(text: &str, error: &serde_json::Error) -> WebhookError {
    use serde_json::error::Category;
    match error.classify() {
        Category::Data => match text.trim_start().bytes().next() {
            Some(b'{') | None => WebhookError::UnexpectedShape {
                reason: error.to_string(),
            },
            Some(b'[') => WebhookError::NotAnObject { found: "array" },
            Some(b'"') => WebhookError::NotAnObject { found: "string" },
            Some(b't' | b'f') => WebhookError::NotAnObject { found: "boolean" },
            Some(b'n') => WebhookError::NotAnObject { found: "null" },
            Some(_) => WebhookError::NotAnObject { found: "number" },
        },
        Category::Io | Category::Syntax | Category::Eof => WebhookError::NotJson {
            reason: error.to_string(),
        },
    }
}

/// The known fields of a body, filled in place by one pass of the JSON parser.
///
/// Hand-written rather than derived: serde's derive builds a large borrowed struct and moves it
/// (and every `Option` inside it) around several times, which cost more than the parse itself.
/// Here each value is written once, straight into its slot, as a [`Text`] position in the body.
#[derive(Default)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(crate) struct Wire {
    /// Inbound fields, indexed like [`INBOUND_KEYS`]; `""` is kept (as an empty text) so the
    /// models can tell "empty" from "absent" where it matters.
    pub(crate) top: [Option<Text>; INBOUND_FIELDS],
    /// The `deliveryInfoNotification` object, when present and not `null`.
    pub(crate) notification: Option<WireNotification>,
}

/// The top level of a body.
struct TopSeed<'w, 'de> {
    pass: Pass<'de>,
    wire: &'w mut Wire,
    receipt_only: bool,
}

impl<'de> de::DeserializeSeed<'de> for TopSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_struct("WireBody", &[], self)
    }
}

impl<'de> de::Visitor<'de> for TopSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.receipt_only {
            "struct Wrapper"
        } else {
            "struct WireBody"
        })
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let key_of: fn(&str) -> Key = if self.receipt_only {
            |key| top_key_for(key, true)
        } else {
            top_key
        };
        let notification = Optional(NotificationLevel {
            pass: self.pass,
            slot: &mut self.wire.notification,
        });
        SlotReader::new(self.pass, &mut self.wire.top).read_map(&mut map, key_of, notification)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let notification = seq.next_element_seed(Optional(NotificationLevel {
            pass: self.pass,
            slot: &mut self.wire.notification,
        }))?;
        if self.receipt_only {
            return match notification {
                Some(()) => Ok(()),
                None => Err(de::Error::invalid_length(
                    0,
                    &"struct Wrapper with 1 element",
                )),
            };
        }
        if notification.is_some() {
            read_seq_slots(&mut seq, self.pass.body, &mut self.wire.top, inbound_kind)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The fast reader against the `serde_json` reader: whatever the fast reader accepts,
    //! `serde_json` accepts too and reads into the same slots.
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use proptest::prelude::*;

    use super::*;

    /// What [`read_wire`] gave before the fast reader: the `serde_json` passes alone.
    fn serde_wire(text: &str, receipt_only: bool) -> Result<Wire, WebhookError> {
        let mut wire = Wire::default();
        read_pass(text, &mut wire, receipt_only, true).or_else(|_| {
            wire = Wire::default();
            read_pass(text, &mut wire, receipt_only, false)
        })?;
        Ok(wire)
    }

    /// The fast reader's slots, when it takes the body.
    fn fast_wire(text: &str, receipt_only: bool) -> Option<Wire> {
        let mut wire = Wire::default();
        scan_wire(text, &mut wire, receipt_only).map(|()| wire)
    }

    /// Checks the fast reader against `serde_json` on `text` in both modes; true when the
    /// fast reader took it.
    fn agrees(text: &str) -> bool {
        let mut taken = false;
        for receipt_only in [false, true] {
            if let Some(fast) = fast_wire(text, receipt_only) {
                taken = true;
                assert!(
                    serde_json::from_str::<de::IgnoredAny>(text).is_ok(),
                    "fast reader took invalid JSON: {text}"
                );
                let slow = serde_wire(text, receipt_only).unwrap_or_else(|e| {
                    panic!("serde refused what the fast reader took: {e}: {text}")
                });
                assert_eq!(fast, slow, "receipt_only {receipt_only}: {text}");
            }
        }
        taken
    }

    const FIXTURES: &[&str] = &[
        include_str!("../../../tests/fixtures/delivery_delivered.json"),
        include_str!("../../../tests/fixtures/delivery_delivered_offset.json"),
        include_str!("../../../tests/fixtures/delivery_extra_fields.json"),
        include_str!("../../../tests/fixtures/delivery_failed_7200_meta.json"),
        include_str!("../../../tests/fixtures/delivery_failed_7710.json"),
        include_str!("../../../tests/fixtures/delivery_failed_7737.json"),
        include_str!("../../../tests/fixtures/delivery_read.json"),
        include_str!("../../../tests/fixtures/delivery_submitted.json"),
        include_str!("../../../tests/fixtures/event_click_flat.json"),
        include_str!("../../../tests/fixtures/event_click_receipt.json"),
        include_str!("../../../tests/fixtures/event_reaction.json"),
        include_str!("../../../tests/fixtures/event_user_id_update.json"),
        include_str!("../../../tests/fixtures/inbound_audio.json"),
        include_str!("../../../tests/fixtures/inbound_both_ids.json"),
        include_str!("../../../tests/fixtures/inbound_bsuid_user_handle.json"),
        include_str!("../../../tests/fixtures/inbound_document.json"),
        include_str!("../../../tests/fixtures/inbound_extra_fields.json"),
        include_str!("../../../tests/fixtures/inbound_image.json"),
        include_str!("../../../tests/fixtures/inbound_location.json"),
        include_str!("../../../tests/fixtures/inbound_normalized_waid.json"),
        include_str!("../../../tests/fixtures/inbound_postback.json"),
        include_str!("../../../tests/fixtures/inbound_text.json"),
        include_str!("../../../tests/fixtures/inbound_username_user.json"),
        include_str!("../../../tests/fixtures/inbound_video.json"),
    ];

    #[test]
    fn the_fast_reader_takes_every_fixture_and_reads_it_as_serde_does() {
        for fixture in FIXTURES {
            assert!(agrees(fixture), "fast reader refused {fixture}");
            assert!(fast_wire(fixture, false).is_some() && fast_wire(fixture, true).is_some());
        }
    }

    #[test]
    fn the_fast_reader_hands_over_what_it_does_not_take() {
        for body in [
            // A repeated known key, at each level (`serde_json` refuses it).
            r#"{"waid":"1","waid":"2"}"#,
            r#"{"deliveryInfoNotification":{"transid":"1","transid":"2"}}"#,
            r#"{"deliveryInfoNotification":{"deliveryInfo":{"code":"1","code":"2"}}}"#,
            r#"{"deliveryInfoNotification":{},"deliveryInfoNotification":{}}"#,
            // An escaped key may name a known field.
            r#"{"w\u0061id":"1"}"#,
            // Levels in array form, or of the wrong type.
            r#"["x"]"#,
            r#"{"deliveryInfoNotification":[{"code":"7500"}]}"#,
            r#"{"deliveryInfoNotification":{"deliveryInfo":["Delivered"]}}"#,
            r#"{"deliveryInfoNotification":"x"}"#,
            // A string `serde_json` reads leniently.
            r#"{"waid":"\ud800"}"#,
            // Not JSON.
            r#"{"waid":"1",}"#,
            r#"{"waid":"1"} x"#,
            r#"{"waid":01}"#,
            "{\"waid\":\"a\tb\"}",
        ] {
            assert!(fast_wire(body, false).is_none(), "{body}");
            agrees(body);
        }
        let deep = format!(r#"{{"x":{}1{}}}"#, "[".repeat(300), "]".repeat(300));
        assert!(fast_wire(&deep, false).is_none());
        assert!(serde_wire(&deep, false).is_ok());
    }

    #[test]
    fn a_repeated_key_is_refused_at_every_level_a_read_reads() {
        for body in [
            r#"{"waid":"1","waid":"2"}"#,
            r#"{"bsuid":"1","bsuid":"2","deliveryInfoNotification":{}}"#,
            r#"{"deliveryInfoNotification":{},"deliveryInfoNotification":{}}"#,
            r#"{"deliveryInfoNotification":{"deliveryInfo":{},"deliveryInfo":null}}"#,
            r#"{"deliveryInfoNotification":{"subtid":"1","subtid":"2"}}"#,
            r#"{"deliveryInfoNotification":{"deliveryInfo":{"code":"1","code":"2"}}}"#,
        ] {
            assert!(
                matches!(
                    serde_wire(body, false),
                    Err(WebhookError::UnexpectedShape { .. })
                ),
                "{body}"
            );
        }
        // A receipt skips the inbound fields, repeats and all.
        let repeated_waid = r#"{"waid":"1","waid":"2","deliveryInfoNotification":{"transid":"t"}}"#;
        let receipt = serde_wire(repeated_waid, true).unwrap();
        let notification = receipt.notification.unwrap();
        assert!(notification.fields[receipt::TRANSID].is_some());
        assert!(
            serde_wire(
                r#"{"bsuid":"1","bsuid":"2","deliveryInfoNotification":{}}"#,
                true
            )
            .is_err()
        );
    }

    #[test]
    fn values_are_kept_as_serde_keeps_them() {
        for body in [
            r#"{"waid":null,"userId":"","message":"a\"b\u00e9","appId":7,"channel":{"a":[1]}}"#,
            r#"{"attachments":"","contacts":"[]","location":{"lat":1},"system":true}"#,
            r#"{"attachments":null,"event":"M\u004f","ts":-1.5e3}"#,
            r#"{"deliveryInfoNotification":null,"bsuid":"IN.1","waid":"1"}"#,
            r#"{"deliveryInfoNotification":{"deliveryInfo":null,"bsuid":["IN.1"]}}"#,
            r#"{"deliveryInfoNotification":{"deliveryInfo":{"code":7500,"x":{"deliveryInfo":1}}}}"#,
            " { \"waid\" : \"1\" , \"u\" : [ ] , \"v\" : { } } \n",
        ] {
            assert!(agrees(body), "fast reader refused {body}");
        }
    }

    /// JSON texts for values: strings plain, escaped and undecodable, numbers, literals,
    /// containers, and a few that are not JSON at all.
    fn value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            2 => Just(r#""""#.to_owned()),
            8 => "[a-zA-Z0-9 ._+-]{0,12}".prop_map(|s| format!("\"{s}\"")),
            2 => Just(r#""a\"b\\c\/\n\u00e9\uD83D\uDE00""#.to_owned()),
            1 => Just(r#""\ud800""#.to_owned()),
            2 => Just(r#""[{\"mime_type\":\"image/jpeg\"}]""#.to_owned()),
            1 => Just("\"é€😀\"".to_owned()),
            1 => Just("\"tab\there\"".to_owned()),
            1 => Just(r#""\x""#.to_owned()),
            3 => prop_oneof![
                Just("0"),
                Just("-0"),
                Just("12"),
                Just("1.5e-3"),
                Just("-7E+2"),
                Just("01"),
                Just("1."),
                Just("-"),
                Just(".5"),
            ]
            .prop_map(str::to_owned),
            2 => prop_oneof![
                Just("true"),
                Just("false"),
                Just("null"),
                Just("nul"),
                Just("True")
            ]
            .prop_map(str::to_owned),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                prop::collection::vec(("[a-z]{1,3}", inner), 0..4).prop_map(|v| {
                    let members: Vec<String> =
                        v.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    /// An object whose keys come from `keys` (known ones, unknown ones, an escaped one),
    /// with whitespace around some tokens.
    fn object(
        keys: &'static [&'static str],
        values: impl Strategy<Value = String>,
    ) -> impl Strategy<Value = String> {
        let ws = prop_oneof![Just(""), Just(""), Just(" "), Just("\n   "), Just("\t\r")];
        prop::collection::vec((prop::sample::select(keys), values, ws), 0..6).prop_map(|members| {
            let members: Vec<String> = members
                .into_iter()
                .map(|(k, v, ws)| format!("{ws}\"{k}\"{ws}:{ws}{v}{ws}"))
                .collect();
            format!("{{{}}}", members.join(","))
        })
    }

    const TOP: &[&str] = &[
        "event",
        "waid",
        "userId",
        "message",
        "attachments",
        "bsuid",
        "x-wx-gtrid",
        "ts",
        "carrier",
        "other",
        "w\\u0061id",
    ];
    const NOTIFICATION: &[&str] = &["transid", "subtid", "correlationid", "bsuid", "pricing"];
    const INFO: &[&str] = &[
        "code",
        "deliveryStatus",
        "destination",
        "timeStamp",
        "extra",
    ];

    /// Bodies in the shapes webhooks have, and odd ones.
    fn body() -> impl Strategy<Value = String> {
        let info = prop_oneof![object(INFO, value()), value()];
        let notification = prop_oneof![
            object(NOTIFICATION, value()),
            (object(NOTIFICATION, value()), info).prop_map(|(n, i)| {
                // The info object first, then the notification's other members.
                let rest = n.strip_prefix('{').unwrap_or("}");
                let sep = if rest == "}" { "" } else { "," };
                format!("{{\"deliveryInfo\":{i}{sep}{rest}")
            }),
            value(),
        ];
        prop_oneof![
            object(TOP, value()),
            (object(TOP, value()), notification).prop_map(|(top, n)| {
                let rest = top.strip_prefix('{').unwrap_or("}");
                let sep = if rest == "}" { "" } else { "," };
                format!("{{\"deliveryInfoNotification\":{n}{sep}{rest}")
            }),
        ]
    }

    #[test]
    fn the_fast_reader_agrees_with_serde() {
        use proptest::test_runner::{Config, TestRunner};
        use std::sync::atomic::{AtomicUsize, Ordering};
        let (cases, taken) = (3000, AtomicUsize::new(0));
        TestRunner::new(Config::with_cases(cases))
            .run(&body(), |body| {
                if agrees(&body) {
                    taken.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            })
            .unwrap();
        // Not vacuous: the fast reader takes a good share of the bodies.
        let taken = taken.into_inner();
        assert!(
            taken * 5 > cases as usize,
            "fast reader took only {taken} of {cases}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn the_fast_reader_agrees_with_serde_on_damaged_bodies(
            body in body(),
            at in any::<prop::sample::Index>(),
            byte in prop::sample::select(&b"{}[]\",:\\ 0-eu\n"[..]),
            cut in any::<bool>(),
        ) {
            let mut bytes = body.into_bytes();
            let at = at.index(bytes.len() + 1);
            if cut && at < bytes.len() {
                bytes.remove(at);
            } else {
                bytes.insert(at, byte);
            }
            if let Ok(text) = String::from_utf8(bytes) {
                agrees(&text);
            }
        }
    }
}
