//! `PhoneNumber`: the parsing contract, every rejection, trunk prefixes, toll-free numbers,
//! libphonenumber's own example numbers, and properties over arbitrary input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use proptest::prelude::*;
use webex_connect_whatsapp::limits::MAX_PHONE_DIGITS;
use webex_connect_whatsapp::phone::{PhoneNumber, PhoneNumberError};

fn e164(input: &str) -> String {
    PhoneNumber::parse(input)
        .unwrap_or_else(|e| panic!("{input}: {e}"))
        .e164()
        .to_owned()
}

fn e164_in(input: &str, region: &str) -> String {
    PhoneNumber::parse_with_region(input, region)
        .unwrap_or_else(|e| panic!("{input} in {region}: {e}"))
        .e164()
        .to_owned()
}

#[test]
fn contract() {
    let p = PhoneNumber::parse("+44 7400 123456").unwrap();
    assert_eq!(p.e164(), "+447400123456");
    assert_eq!(p.waid(), "447400123456");
    assert_eq!(p.country_code(), 44);
    assert_eq!(p.region(), Some("GB"));
    assert_eq!(p.to_string(), "+447400123456");
    let q = PhoneNumber::parse_with_region("07400 123456", "GB").unwrap();
    assert_eq!(p, q);
    assert_eq!(
        PhoneNumber::parse_with_region("07400 123456", "gb").unwrap(),
        p
    );
    assert_eq!("+44 7400 123456".parse::<PhoneNumber>().unwrap(), p);
    assert_eq!(PhoneNumber::try_from("+447400123456").unwrap(), p);
    assert_eq!(
        PhoneNumber::try_from("+447400123456".to_owned()).unwrap(),
        p
    );
    assert_eq!(String::from(p.clone()), "+447400123456");
}

#[test]
fn separators_are_allowed() {
    for input in [
        "+44 7400 123456",
        "+44-7400-123456",
        "+44.7400.123456",
        "+44 (7400) 123456",
        "  +44 7400 123456  ",
        "+44\u{a0}7400\u{a0}123456",
        "+44 (0)7400 123456",
        "+44 07400 123456",
    ] {
        assert_eq!(e164(input), "+447400123456", "{input}");
    }
}

#[test]
fn debug_is_masked_and_display_is_full() {
    let p = PhoneNumber::parse("+44 7400 123456").unwrap();
    assert_eq!(format!("{p:?}"), "PhoneNumber(\"+44********56\")");
    assert!(!format!("{p:?}").contains("7400123"));
    assert_eq!(p.masked(), "+44********56");
    assert_eq!(format!("{p}"), "+447400123456");
}

#[test]
fn serde_is_the_e164_string() {
    let p = PhoneNumber::parse("+1 (650) 253-0000").unwrap();
    assert_eq!(serde_json::to_string(&p).unwrap(), "\"+16502530000\"");
    let back: PhoneNumber = serde_json::from_str("\"+16502530000\"").unwrap();
    assert_eq!(back, p);
    let err = serde_json::from_str::<PhoneNumber>("\"+44 118\"").unwrap_err();
    assert!(
        err.to_string().contains("short codes are not allowed"),
        "{err}"
    );
    assert!(serde_json::from_str::<PhoneNumber>("\"07400123456\"").is_err());
    assert!(serde_json::from_str::<PhoneNumber>("447400123456").is_err());
}

#[test]
fn leading_zero_kept_where_it_is_part_of_the_number() {
    // Italy has no trunk prefix: the 0 of a fixed-line number is dialled from abroad too.
    assert_eq!(e164_in("06 1234 5678", "IT"), "+390612345678");
    assert_eq!(e164("+39 06 1234 5678"), "+390612345678");
    assert_eq!(e164_in("+39 06 1234 5678", "GB"), "+390612345678");
    assert_eq!(e164_in("333 123 4567", "IT"), "+393331234567");
}

#[test]
fn trunk_prefixes_other_than_zero() {
    assert_eq!(e164_in("06 1 234 5678", "HU"), "+3612345678");
    assert_eq!(e164_in("06-30-123-4567", "HU"), "+36301234567");
    assert_eq!(e164_in("8 912 345-67-89", "RU"), "+79123456789");
    assert_eq!(e164_in("8 (495) 123-45-67", "RU"), "+74951234567");
    assert_eq!(e164_in("912 345-67-89", "RU"), "+79123456789");
}

#[test]
fn trunk_zero() {
    assert_eq!(e164_in("020 7946 0000", "GB"), "+442079460000");
    assert_eq!(e164_in("030 123456", "DE"), "+4930123456");
    assert_eq!(e164_in("01 23 45 67 89", "FR"), "+33123456789");
    assert_eq!(e164_in("(650) 253-0000", "US"), "+16502530000");
    assert_eq!(e164_in("1 650 253 0000", "US"), "+16502530000");
}

#[test]
fn international_call_prefix_in_national_input() {
    assert_eq!(e164_in("00 44 7400 123456", "DE"), "+447400123456");
    assert_eq!(e164_in("011 44 7400 123456", "US"), "+447400123456");
    // The region's own country code without '+' is recognised as libphonenumber does.
    assert_eq!(e164_in("44 7400 123456", "GB"), "+447400123456");
}

#[test]
fn region_is_the_numbers_own() {
    assert_eq!(
        PhoneNumber::parse("+1 604 555 5555").unwrap().region(),
        Some("CA")
    );
    assert_eq!(
        PhoneNumber::parse_with_region("604 555 5555", "US")
            .unwrap()
            .region(),
        Some("CA")
    );
    assert_eq!(
        PhoneNumber::parse("+44 1534 456789").unwrap().region(),
        Some("JE")
    );
    assert_eq!(
        PhoneNumber::parse("+7 701 234 5678").unwrap().region(),
        Some("KZ")
    );
    assert_eq!(PhoneNumber::parse("+800 1234 5678").unwrap().region(), None);
}

#[test]
fn toll_free_with_country_code() {
    assert_eq!(e164("+1 800 234 5678"), "+18002345678");
    assert_eq!(e164("+44 800 123 4567"), "+448001234567");
    assert_eq!(e164("+44 808 157 0192"), "+448081570192");
    // The `phonenumber` crate's own parser strips the 8 of 800 as a Russian trunk prefix.
    assert_eq!(e164("+7 800 555-35-35"), "+78005553535");
    assert_eq!(e164_in("8 800 555-35-35", "RU"), "+78005553535");
    assert_eq!(e164("+800 1234 5678"), "+80012345678");
    // Without the country code a toll-free number is ambiguous: it is refused.
    assert_eq!(
        PhoneNumber::parse("0800 123 4567"),
        Err(PhoneNumberError::MissingCountryCode)
    );
    assert_eq!(
        PhoneNumber::parse("800 234 5678"),
        Err(PhoneNumberError::MissingCountryCode)
    );
}

#[test]
fn rejects_missing_country_code() {
    for input in [
        "07400 123456",
        "447400123456",
        "(650) 253-0000",
        "0612345678",
    ] {
        assert_eq!(
            PhoneNumber::parse(input),
            Err(PhoneNumberError::MissingCountryCode),
            "{input}"
        );
    }
    let msg = PhoneNumber::parse("07400 123456").unwrap_err().to_string();
    assert!(msg.contains("'+'") && msg.contains("region"), "{msg}");
}

#[test]
fn rejects_empty() {
    for input in ["", "   ", "+", "( )", "- . -"] {
        assert_eq!(
            PhoneNumber::parse(input),
            Err(PhoneNumberError::Empty),
            "{input:?}"
        );
        assert_eq!(
            PhoneNumber::parse_with_region(input, "GB"),
            Err(PhoneNumberError::Empty),
            "{input:?}"
        );
    }
}

#[test]
fn rejects_invalid_characters_with_position() {
    assert_eq!(
        PhoneNumber::parse("+44 7400 12345a"),
        Err(PhoneNumberError::InvalidCharacter {
            found: 'a',
            position: 14
        })
    );
    assert_eq!(
        PhoneNumber::parse("  +44+7400"),
        Err(PhoneNumberError::InvalidCharacter {
            found: '+',
            position: 5
        })
    );
    assert_eq!(
        PhoneNumber::parse("++447400123456"),
        Err(PhoneNumberError::InvalidCharacter {
            found: '+',
            position: 1
        })
    );
    assert_eq!(
        PhoneNumber::parse("+44 7400 123456 ext. 12"),
        Err(PhoneNumberError::InvalidCharacter {
            found: 'e',
            position: 16
        })
    );
    assert_eq!(
        PhoneNumber::parse("+４４ 7400 123456"),
        Err(PhoneNumberError::InvalidCharacter {
            found: '４',
            position: 1
        })
    );
    assert_eq!(
        PhoneNumber::parse_with_region("tel:07400123456", "GB"),
        Err(PhoneNumberError::InvalidCharacter {
            found: 't',
            position: 0
        })
    );
    let msg = PhoneNumber::parse("+44/7400").unwrap_err().to_string();
    assert_eq!(
        msg,
        "phone number contains '/' at character 3; only digits, a leading '+', spaces, dashes, \
         dots and brackets are allowed"
    );
}

#[test]
fn rejects_short_codes() {
    for input in ["+44 118", "+44 1234", "+44 12345", "+44 123456", "+1 12345"] {
        assert!(
            matches!(
                PhoneNumber::parse(input),
                Err(PhoneNumberError::ShortCode { .. })
            ),
            "{input}: {:?}",
            PhoneNumber::parse(input)
        );
    }
    for (input, region) in [
        ("12345", "GB"),
        ("61998", "GB"),
        ("88222", "GB"),
        ("118118", "GB"),
        ("555", "US"),
        ("32665", "US"),
        ("7726", "GB"),
    ] {
        assert!(
            matches!(
                PhoneNumber::parse_with_region(input, region),
                Err(PhoneNumberError::ShortCode { .. })
            ),
            "{input} in {region}: {:?}",
            PhoneNumber::parse_with_region(input, region)
        );
    }
    assert_eq!(
        PhoneNumber::parse("+44 118"),
        Err(PhoneNumberError::ShortCode { digits: 3 })
    );
    let msg = PhoneNumber::parse("+44 118").unwrap_err().to_string();
    assert!(msg.contains("short codes are not allowed"), "{msg}");
}

#[test]
fn rejects_too_short_full_numbers() {
    assert_eq!(
        PhoneNumber::parse_with_region("650 2530", "US"),
        Err(PhoneNumberError::TooShort {
            digits: 7,
            min: 10,
            region: "US".to_owned()
        })
    );
    assert_eq!(
        PhoneNumber::parse("+1 650 2530"),
        Err(PhoneNumberError::TooShort {
            digits: 7,
            min: 10,
            region: "US".to_owned()
        })
    );
    assert_eq!(
        PhoneNumber::parse("+1 650 2530").unwrap_err().to_string(),
        "phone number has 7 digits after the country code, but numbers in US have at least 10; \
         check for a missing digit"
    );
}

#[test]
fn rejects_emergency_numbers() {
    for (input, region) in [
        ("112", "DE"),
        ("911", "US"),
        ("999", "GB"),
        ("000", "AU"),
        ("110", "DE"),
    ] {
        assert_eq!(
            PhoneNumber::parse_with_region(input, region),
            Err(PhoneNumberError::Emergency {
                number: input.to_owned()
            }),
            "{input}"
        );
    }
    assert_eq!(
        PhoneNumber::parse("112"),
        Err(PhoneNumberError::Emergency {
            number: "112".to_owned()
        })
    );
    assert_eq!(
        PhoneNumber::parse("+911"),
        Err(PhoneNumberError::Emergency {
            number: "911".to_owned()
        })
    );
    assert_eq!(
        PhoneNumber::parse_with_region("9-1-1", "US"),
        Err(PhoneNumberError::Emergency {
            number: "911".to_owned()
        })
    );
    let msg = PhoneNumber::parse("999").unwrap_err().to_string();
    assert!(msg.contains("emergency"), "{msg}");
}

#[test]
fn rejects_too_long() {
    assert_eq!(
        PhoneNumber::parse("+44 7400 1234567890"),
        Err(PhoneNumberError::TooLong {
            digits: 16,
            max: MAX_PHONE_DIGITS
        })
    );
    assert_eq!(
        PhoneNumber::parse("+1234567890123456789012"),
        Err(PhoneNumberError::TooLong {
            digits: 22,
            max: 15
        })
    );
    assert!(matches!(
        PhoneNumber::parse_with_region("0740012345612345678901", "GB"),
        Err(PhoneNumberError::TooLong {
            digits: 22,
            max: 15
        })
    ));
    assert_eq!(
        PhoneNumber::parse("+44 7400 1234567890")
            .unwrap_err()
            .to_string(),
        "phone number has 16 digits, but E.164 allows at most 15; check for an extra digit or a \
         country code written twice"
    );
    let huge = format!("+{}", "9".repeat(100_000));
    assert!(matches!(
        PhoneNumber::parse(&huge),
        Err(PhoneNumberError::TooLong { .. })
    ));
}

#[test]
fn rejects_numbers_not_valid_for_their_country() {
    // The FAQ's own example has one digit too many for a UK mobile.
    assert_eq!(
        PhoneNumber::parse("+4475006611111"),
        Err(PhoneNumberError::InvalidForRegion {
            input: "+4475006611111".to_owned(),
            region: "GB".to_owned()
        })
    );
    assert_eq!(e164("+447500661111"), "+447500661111");
    for input in [
        "+44 7400 12345",
        "+1 123 456 7890",
        "+33 0 12 34 56 78",
        "+49 0000 000000",
    ] {
        assert!(
            matches!(
                PhoneNumber::parse(input),
                Err(PhoneNumberError::InvalidForRegion { .. })
            ),
            "{input}: {:?}",
            PhoneNumber::parse(input)
        );
    }
    let err = PhoneNumber::parse_with_region("099 1234 5678", "GB").unwrap_err();
    assert_eq!(
        err.to_string(),
        "\"0991****5678\" is not a valid phone number for GB; expected a full fixed-line, \
         mobile or toll-free number"
    );
    // The message masks the number; the field keeps it whole for the caller.
    assert!(matches!(
        err,
        PhoneNumberError::InvalidForRegion { ref input, .. } if input == "099 1234 5678"
    ));
}

#[test]
fn rejects_unknown_country_codes_and_regions() {
    assert_eq!(
        PhoneNumber::parse("+999 1234 5678"),
        Err(PhoneNumberError::UnknownCountryCode)
    );
    assert_eq!(
        PhoneNumber::parse("+0 1234 5678"),
        Err(PhoneNumberError::UnknownCountryCode)
    );
    for region in ["XX", "UK", "001", "", "G", "GBR", "ÉÉ"] {
        assert_eq!(
            PhoneNumber::parse_with_region("07400 123456", region),
            Err(PhoneNumberError::UnknownRegion {
                region: region.to_owned()
            }),
            "{region:?}"
        );
    }
    assert_eq!(
        PhoneNumber::parse_with_region("07400 123456", "UK")
            .unwrap_err()
            .to_string(),
        "unknown region \"UK\"; expected an ISO 3166 alpha-2 code such as GB or US"
    );
}

#[test]
fn errors_never_add_digits_to_the_input() {
    let inputs = [
        ("+44 7400 12345", None),
        ("+4475006611111", None),
        ("099 1234 5678", Some("GB")),
        ("12345", Some("GB")),
        ("+1 650 2530", None),
    ];
    for (input, region) in inputs {
        let err = match region {
            None => PhoneNumber::parse(input),
            Some(r) => PhoneNumber::parse_with_region(input, r),
        }
        .unwrap_err();
        let msg = err.to_string();
        let digits: String = input.chars().filter(char::is_ascii_digit).collect();
        // No run of more than 4 digits appears that is not in the input as typed.
        for run in msg
            .split(|c: char| !c.is_ascii_digit())
            .filter(|r| r.len() > 4)
        {
            assert!(input.contains(run) || digits == run, "{msg}");
        }
    }
}

fn descriptors(meta: &Metadata) -> [(&'static str, Option<&Descriptor>); 3] {
    let d = meta.descriptors();
    [
        ("fixed-line", d.fixed_line()),
        ("mobile", d.mobile()),
        ("toll-free", d.toll_free()),
    ]
}

/// libphonenumber's example numbers for every region and non-geographic code: fixed-line,
/// mobile and toll-free, in international form, each valid, and round-tripping.
#[test]
fn libphonenumber_examples_international() {
    let mut checked = 0;
    for meta in DATABASE.iter() {
        for (kind, desc) in descriptors(meta) {
            let Some(example) = desc.and_then(Descriptor::example) else {
                continue;
            };
            let input = format!("+{}{example}", meta.country_code());
            let p = PhoneNumber::parse(&input)
                .unwrap_or_else(|e| panic!("{} {kind} {input}: {e}", meta.id()));
            assert_eq!(p.e164(), input, "{} {kind}", meta.id());
            assert_eq!(PhoneNumber::parse(p.e164()).unwrap(), p);
            assert_eq!(p.country_code(), meta.country_code());
            checked += 1;
        }
    }
    assert!(checked > 600, "only {checked} examples");
}

/// The same examples written nationally: bare, and after the region's trunk prefix.
#[test]
fn libphonenumber_examples_national() {
    let mut checked = 0;
    for meta in DATABASE.iter().filter(|m| m.id().len() == 2) {
        for (kind, desc) in descriptors(meta) {
            let Some(example) = desc.and_then(Descriptor::example) else {
                continue;
            };
            let expected = format!("+{}{example}", meta.country_code());
            let bare = PhoneNumber::parse_with_region(example, meta.id())
                .unwrap_or_else(|e| panic!("{} {kind} {example}: {e}", meta.id()));
            assert_eq!(bare.e164(), expected, "{} {kind} {example}", meta.id());
            // Colombia's trunk prefix `0` is followed by a carrier code before area codes and is
            // not used before mobile numbers at all, so `0` + mobile is not a national form.
            if meta.id() == "CO" && kind == "mobile" {
                continue;
            }
            let with_trunk = format!("{}{example}", meta.national_prefix().unwrap_or_default());
            let p = PhoneNumber::parse_with_region(&with_trunk, meta.id())
                .unwrap_or_else(|e| panic!("{} {kind} {with_trunk}: {e}", meta.id()));
            assert_eq!(p.e164(), expected, "{} {kind} {with_trunk}", meta.id());
            checked += 1;
        }
    }
    assert!(checked > 550, "only {checked} examples");
}

fn regions() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "GB", "US", "IT", "HU", "RU", "DE", "IN", "BR", "AR", "MX", "CN"
        ])
        .prop_map(str::to_owned),
        "[A-Za-z0-9]{0,3}",
    ]
}

fn phoneish() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[+]?[0-9 ().-]{0,24}",
        "[+][1-9][0-9]{6,14}",
        "[0-9]{1,20}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn from_waid_never_panics_and_gives_back_the_waid(input in phoneish()) {
        if let Ok(p) = PhoneNumber::from_waid(&input) {
            prop_assert_eq!(PhoneNumber::from_waid(p.waid()).unwrap(), p);
        }
    }

    #[test]
    fn parse_never_panics_and_round_trips(input in phoneish()) {
        if let Ok(p) = PhoneNumber::parse(&input) {
            prop_assert_eq!(PhoneNumber::parse(p.e164()).unwrap(), p.clone());
            prop_assert!(p.e164().len() <= MAX_PHONE_DIGITS + 1);
            prop_assert!(p.waid().bytes().all(|b| b.is_ascii_digit()));
            let json = serde_json::to_string(&p).unwrap();
            prop_assert_eq!(serde_json::from_str::<PhoneNumber>(&json).unwrap(), p);
        }
    }

    #[test]
    fn parse_with_region_never_panics_and_round_trips(input in phoneish(), region in regions()) {
        if let Ok(p) = PhoneNumber::parse_with_region(&input, &region) {
            prop_assert_eq!(PhoneNumber::parse(p.e164()).unwrap(), p.clone());
            prop_assert_eq!(PhoneNumber::parse_with_region(p.e164(), &region).unwrap(), p.clone());
            prop_assert!(p.waid().bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn region_argument_never_panics(region in any::<String>()) {
        let _ = PhoneNumber::parse_with_region("07400 123456", &region);
    }
}

#[test]
fn from_waid_reads_the_digits_webhooks_carry() {
    for (waid, e164) in [
        ("447400123456", "+447400123456"),
        ("919900012345", "+919900012345"),
        ("16502530000", "+16502530000"),
        // A `+` is taken too, and surrounding whitespace.
        ("+447400123456", "+447400123456"),
        (" 447400123456 ", "+447400123456"),
    ] {
        let n = PhoneNumber::from_waid(waid).unwrap_or_else(|e| panic!("{waid}: {e}"));
        assert_eq!(n.e164(), e164);
        assert_eq!(n, PhoneNumber::parse(e164).unwrap());
    }
}

#[test]
fn from_waid_refuses_ids_that_are_not_phone_numbers_and_points_to_reply_to() {
    for empty in ["", "  ", "+"] {
        let e = PhoneNumber::from_waid(empty).unwrap_err();
        assert_eq!(e, PhoneNumberError::EmptyWaid, "{empty:?}");
        assert!(e.to_string().contains("InboundMessage::reply_to()"), "{e}");
        assert!(e.to_string().contains("username user"), "{e}");
    }
    // Masked, as in the documentation samples.
    let e = PhoneNumber::from_waid("9199xxxxxxxx").unwrap_err();
    assert_eq!(
        e,
        PhoneNumberError::MaskedWaid {
            masked: "9199****xxxx".into()
        }
    );
    assert!(e.to_string().contains("InboundMessage::reply_to()"), "{e}");
    // BSUIDs, parent BSUIDs and normalized WAIDs: a country code and a dot.
    for id in [
        "US.13491208655302741918",
        "US.ENT.11815799212886844830",
        "IN.2149372115xxxxxx",
        "IN.746868",
    ] {
        let e = PhoneNumber::from_waid(id).unwrap_err();
        assert!(
            matches!(e, PhoneNumberError::NotAPhoneNumber { .. }),
            "{id}: {e:?}"
        );
        let message = e.to_string();
        assert!(
            message.contains("Recipient::parse or Bsuid::new"),
            "{message}"
        );
        assert!(message.contains("InboundMessage::reply_to()"), "{message}");
        // The id is masked in the message.
        assert!(!message.contains(id), "{message}");
    }
    // Anything else but digits is named with its position in the input.
    assert_eq!(
        PhoneNumber::from_waid("44 7400 123456"),
        Err(PhoneNumberError::InvalidCharacter {
            found: ' ',
            position: 2
        })
    );
    assert_eq!(
        PhoneNumber::from_waid("+4474001234a6"),
        Err(PhoneNumberError::InvalidCharacter {
            found: 'a',
            position: 11
        })
    );
    // Digits that are no valid number fail as parse() would.
    assert!(matches!(
        PhoneNumber::from_waid("4412"),
        Err(PhoneNumberError::ShortCode { .. })
    ));
}

#[test]
fn parse_names_a_user_id_for_what_it_is() {
    for parse in [
        PhoneNumber::parse("US.13491208655302741918"),
        PhoneNumber::parse_with_region("US.13491208655302741918", "US"),
    ] {
        let e = parse.unwrap_err();
        assert!(
            matches!(e, PhoneNumberError::NotAPhoneNumber { .. }),
            "{e:?}"
        );
    }
}

#[test]
fn an_empty_number_points_username_users_to_reply_to() {
    let e = PhoneNumber::parse("").unwrap_err();
    assert_eq!(e, PhoneNumberError::Empty);
    assert!(e.to_string().contains("InboundMessage::reply_to()"), "{e}");
}
