//! The template registry on its own (models only): loading from JSON, keys, every mismatch kind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use webex_connect_whatsapp::template::{OTP_KEY, RegistryError, TemplateRegistry};
use webex_connect_whatsapp::{TemplateId, TemplateMessage};

const FIXTURE: &str = include_str!("fixtures/template_registry.json");

fn registry() -> TemplateRegistry {
    TemplateRegistry::from_json_str(FIXTURE).unwrap()
}

fn order() -> webex_connect_whatsapp::template::TemplateMessageBuilder {
    TemplateMessage::builder(TemplateId::new("5139722425xxxxx").unwrap())
}

#[test]
fn file_keys_and_fixed_keys() {
    let registry = registry();
    assert_eq!(registry.len(), 2);
    let order = registry
        .get(&TemplateId::new("5139722425xxxxx").unwrap())
        .unwrap();
    assert_eq!(
        order.parameter_keys(),
        ["headerText", "1", "2", "ctaVariable", "quickReply"]
    );
    let otp = registry
        .get(&TemplateId::new("5139722425otp00").unwrap())
        .unwrap();
    assert_eq!(otp.parameter_keys(), ["1", OTP_KEY]);
}

#[test]
fn warnings_for_legacy_categories_and_vague_names() {
    let rules: Vec<_> = registry()
        .warnings()
        .iter()
        .map(webex_connect_whatsapp::warning::Warning::rule)
        .collect();
    assert!(rules.contains(&"template_name.descriptive"), "{rules:?}");
    assert!(rules.contains(&"template_category.legacy"), "{rules:?}");
}

#[test]
fn a_full_message_passes_and_the_file_round_trips() {
    let registry = registry();
    let message = order()
        .header_text("headerText", "A-1042")
        .text("1", "Ana")
        .text("2", "A-1042")
        .url_suffix("ctaVariable", "A-1042")
        .quick_reply("Thanks", "THANKS")
        .build()
        .unwrap();
    registry.check(&message).unwrap();
    let again = TemplateRegistry::from_json_str(&registry.to_json_string().unwrap()).unwrap();
    assert_eq!(again, registry);
    let otp = TemplateMessage::builder(TemplateId::new("5139722425otp00").unwrap())
        .text("1", "123456")
        .otp(OTP_KEY, "123456")
        .build()
        .unwrap();
    registry.check(&otp).unwrap();
}

#[test]
fn wrong_types_are_refused() {
    let message = order()
        .header_text("headerText", "A-1042")
        .text("1", "Ana")
        .text("2", "A-1042")
        .text("ctaVariable", "A-1042")
        .quick_reply("Thanks", "THANKS")
        .build()
        .unwrap();
    let err = registry().check(&message).unwrap_err();
    assert!(
        matches!(&err, RegistryError::WrongType { key, expected: "url", actual: "text", .. } if key == "ctaVariable"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "template order_shipped (5139722425xxxxx): parameter \"ctaVariable\" is a text value, but its URL button variable takes url"
    );
}

#[test]
fn mismatches_name_template_key_and_rule() {
    let registry = registry();
    let missing = order().text("1", "Ana").build().unwrap();
    let err = registry.check(&missing).unwrap_err();
    assert!(matches!(&err, RegistryError::MissingParameter { key, .. } if key == "headerText"));
    assert!(err.to_string().contains("order_shipped"));

    let header_too_long = order()
        .header_text("headerText", "x".repeat(60))
        .text("headerText2", "y")
        .build()
        .unwrap();
    let err = registry.check(&header_too_long).unwrap_err();
    assert!(matches!(&err, RegistryError::ExtraParameter { key, .. } if key == "headerText2"));

    // A JSON-read message takes up to 1024 characters for any text; the header takes 60.
    let json = format!(
        r#"{{"template":"5139722425xxxxx","parameters":{{"headerText":"{}","1":"a","2":"b","ctaVariable":{{"type":"url","payload":"x"}},"quickReply":[{{"button_text":"Thanks","payload":"T"}}]}}}}"#,
        "h".repeat(61)
    );
    let read: TemplateMessage = serde_json::from_str(&json).unwrap();
    let err = registry.check(&read).unwrap_err();
    assert!(
        matches!(&err, RegistryError::TooLong { key, actual: 61, max: 60, .. } if key == "headerText"),
        "{err:?}"
    );
}

#[test]
fn bad_files_are_refused() {
    assert!(matches!(
        TemplateRegistry::from_json_str("{"),
        Err(RegistryError::Json { .. })
    ));
    let dup = r#"{"templates":[
        {"id":"1","definition":{"name":"welcome","category":"UTILITY","language":"en","body":"Hi"}},
        {"id":"1","definition":{"name":"welcome","category":"UTILITY","language":"en","body":"Hi"}}]}"#;
    assert!(matches!(
        TemplateRegistry::from_json_str(dup),
        Err(RegistryError::DuplicateId { .. })
    ));
    let bad_key = r#"{"templates":[{"id":"1","keys":{"body.9":"x"},
        "definition":{"name":"welcome","category":"UTILITY","language":"en","body":"Hi {{1}}!"}}]}"#;
    assert!(matches!(
        TemplateRegistry::from_json_str(bad_key),
        Err(RegistryError::UnknownVariable { .. })
    ));
    assert!(matches!(
        TemplateRegistry::from_json_file("tests/fixtures/no_such_file.json"),
        Err(RegistryError::Io { .. })
    ));
    assert_eq!(
        TemplateRegistry::from_json_file("tests/fixtures/template_registry.json").unwrap(),
        registry()
    );
}

#[cfg(feature = "toml")]
#[test]
fn toml_files_read_like_json_files() {
    let from_toml = TemplateRegistry::from_file("tests/fixtures/template_registry.toml").unwrap();
    let from_json = TemplateRegistry::from_file("tests/fixtures/template_registry.json").unwrap();
    assert_eq!(from_toml.len(), 2);
    assert_eq!(
        from_toml.to_json_string().unwrap(),
        from_json.to_json_string().unwrap()
    );
    assert!(matches!(
        TemplateRegistry::from_toml_str("[[templates]]\nid = "),
        Err(RegistryError::Toml { .. })
    ));
    // An invalid definition is refused in TOML as in JSON.
    let bad_name = "[[templates]]\nid = \"1\"\n[templates.definition]\nname = \"Bad Name\"\ncategory = \"UTILITY\"\nlanguage = \"en\"\nbody = \"Hi\"\n";
    assert!(matches!(
        TemplateRegistry::from_toml_str(bad_name),
        Err(RegistryError::Toml { .. })
    ));
}
