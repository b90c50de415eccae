//! Link shortening and click tracking: the request `options` object, its wire names, its
//! checks, reading it back, and the client setters that carry it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

#[cfg(feature = "client")]
mod support;

use serde_json::{Value, json};
use webex_connect_whatsapp::limits::{MAX_LINK_TAG_CHARS, MAX_LINK_TAGS};
use webex_connect_whatsapp::send::{LinkOptions, LinkOptionsError, SendRequest, SendRequestError};
use webex_connect_whatsapp::{AppId, PhoneNumber, SessionMessage};

fn request(options: Option<LinkOptions>) -> SendRequest {
    let mut builder = SendRequest::builder(
        AppId::new("a_155054536910425280").unwrap(),
        SessionMessage::text("Your receipt: https://example.com/r/1").unwrap(),
    )
    .to(PhoneNumber::parse("+44 7400 123456").unwrap());
    if let Some(options) = options {
        builder = builder.link_options(options);
    }
    builder.build().unwrap()
}

fn wire(request: &SendRequest) -> Value {
    serde_json::to_value(request).unwrap()
}

fn full() -> LinkOptions {
    LinkOptions::builder("go.example.com")
        .track_clicks(true)
        .shorten_links(false)
        .tags(["spring", "sms-2"])
        .tag("third")
        .allow_fallback_url(true)
        .build()
        .unwrap()
}

#[test]
fn every_option_goes_out_under_its_wire_name() {
    let json = wire(&request(Some(full())));
    assert_eq!(
        json["options"],
        json!({
            "trackClicks": "true",
            "shortenLinks": "false",
            "domain": "go.example.com",
            "tag1": "spring",
            "tag2": "sms-2",
            "tag3": "third",
            "allowFallbackURL": "true"
        })
    );
    let options = full();
    assert_eq!(options.domain(), "go.example.com");
    assert_eq!(options.track_clicks(), Some(true));
    assert_eq!(options.shorten_links(), Some(false));
    assert_eq!(options.allow_fallback_url(), Some(true));
    assert_eq!(options.tags(), ["spring", "sms-2", "third"]);
}

#[test]
fn unset_options_are_omitted() {
    assert!(wire(&request(None)).get("options").is_none());
    let json = wire(&request(Some(LinkOptions::new("go.example.com").unwrap())));
    assert_eq!(json["options"], json!({"domain": "go.example.com"}));
    assert_eq!(
        serde_json::to_string(&LinkOptions::new("wbx.to").unwrap()).unwrap(),
        r#"{"domain":"wbx.to"}"#
    );
}

#[test]
fn options_read_back_exactly() {
    for options in [
        None,
        Some(LinkOptions::new("a.b.example.co.uk").unwrap()),
        Some(full()),
    ] {
        let sent = request(options);
        let back = SendRequest::from_slice(&serde_json::to_vec(&sent).unwrap()).unwrap();
        assert_eq!(back, sent);
        assert_eq!(wire(&back), wire(&sent));
    }
    let options: LinkOptions =
        serde_json::from_value(json!({"domain": "go.example.com", "tag1": "x"})).unwrap();
    assert_eq!(options.tags(), ["x"]);
}

#[test]
fn the_domain_must_be_a_bare_host_name() {
    for good in [
        "go.example.com",
        "Go.Example.COM",
        "xn--bcher-kva.example",
        "a-b.c1.io",
        "wbx.to",
    ] {
        assert!(LinkOptions::new(good).is_ok(), "{good}");
    }
    for (bad, reason) in [
        ("", "it is empty"),
        ("https://go.example.com", "it has a scheme"),
        ("go.example.com/links", "it has a path, query or fragment"),
        ("go.example.com?x=1", "it has a path, query or fragment"),
        ("go.example.com:8443", "it has a port or is an IPv6 address"),
        ("[::1]", "it has a port or is an IPv6 address"),
        ("user@go.example.com", "it has user info"),
        (
            "bücher.example",
            "it has a non-ASCII character; write an internationalized name in its xn-- form",
        ),
        (
            "localhost",
            "it has a single label; a public host name has at least two, like example.com",
        ),
        (
            "go..example.com",
            "it has an empty label (a leading, trailing or doubled dot)",
        ),
        (
            "go.example.com.",
            "it has an empty label (a leading, trailing or doubled dot)",
        ),
        ("-go.example.com", "a label starts or ends with a hyphen"),
        (
            "go_links.example.com",
            "it has a character other than letters, digits, hyphens and dots",
        ),
        (
            "go example.com",
            "it has a character other than letters, digits, hyphens and dots",
        ),
        ("192.168.0.1", "it is an IP address, not a host name"),
    ] {
        assert_eq!(
            LinkOptions::new(bad),
            Err(LinkOptionsError::InvalidDomain {
                domain: bad.to_owned(),
                reason
            }),
            "{bad}"
        );
    }
    let long_label = format!("{}.example.com", "a".repeat(64));
    assert!(matches!(
        LinkOptions::new(long_label),
        Err(LinkOptionsError::InvalidDomain {
            reason: "a label is longer than 63 characters",
            ..
        })
    ));
    let long = format!("{}.com", vec!["a".repeat(60); 5].join("."));
    assert!(long.len() > 253);
    assert!(matches!(
        LinkOptions::new(long),
        Err(LinkOptionsError::InvalidDomain {
            reason: "it is longer than 253 characters",
            ..
        })
    ));
    // The message says what is allowed.
    let message = LinkOptions::new("https://go.example.com/x")
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("give a host name alone, such as \"go.example.com\""),
        "{message}"
    );
    assert!(message.contains("no scheme, port or path"), "{message}");
}

#[test]
fn tags_are_checked_and_numbered_from_one() {
    let build = |tags: Vec<String>| LinkOptions::builder("go.example.com").tags(tags).build();
    assert!(build(vec!["t".to_owned(); MAX_LINK_TAGS]).is_ok());
    assert_eq!(
        build(vec!["t".to_owned(); MAX_LINK_TAGS + 1]),
        Err(LinkOptionsError::TooManyTags {
            actual: MAX_LINK_TAGS + 1,
            max: MAX_LINK_TAGS
        })
    );
    assert_eq!(
        build(vec!["a".into(), String::new()]),
        Err(LinkOptionsError::EmptyTag { number: 2 })
    );
    assert!(build(vec!["é".repeat(MAX_LINK_TAG_CHARS)]).is_ok());
    assert_eq!(
        build(vec!["é".repeat(MAX_LINK_TAG_CHARS + 1)]),
        Err(LinkOptionsError::TagTooLong {
            number: 1,
            actual: MAX_LINK_TAG_CHARS + 1,
            max: MAX_LINK_TAG_CHARS
        })
    );
    assert_eq!(
        build(vec!["ok".into(), "ok".into(), "a\tb".into()]),
        Err(LinkOptionsError::TagControlCharacter {
            number: 3,
            position: 1
        })
    );
    assert_eq!(
        LinkOptionsError::EmptyTag { number: 2 }.to_string(),
        "link tag2 is empty; a tag holds 1 to 255 characters"
    );
}

fn read(options: Value) -> Result<SendRequest, SendRequestError> {
    let mut body = wire(&request(None));
    body["options"] = options;
    SendRequest::from_slice(&serde_json::to_vec(&body).unwrap())
}

#[test]
fn reading_options_names_what_is_wrong() {
    assert_eq!(
        read(json!({"trackClicks": true})).unwrap_err(),
        SendRequestError::Missing {
            field: "options.domain"
        }
    );
    assert_eq!(
        read(json!({"domain": ""})).unwrap_err(),
        SendRequestError::Missing {
            field: "options.domain"
        }
    );
    assert!(matches!(
        read(json!({"domain": 5})),
        Err(SendRequestError::Invalid {
            field: "options.domain",
            ..
        })
    ));
    assert!(matches!(
        read(json!("go.example.com")),
        Err(SendRequestError::Invalid {
            field: "options",
            ..
        })
    ));
    let Err(SendRequestError::Invalid { field, reason }) =
        read(json!({"domain": "go.example.com", "tag1": "a", "tag3": "c"}))
    else {
        panic!("a gap in the tags must be refused")
    };
    assert_eq!(field, "options");
    assert!(reason.contains("tag3 is given without tag2"), "{reason}");
    assert!(matches!(
        read(json!({"domain": "go.example.com", "tag1": 7})),
        Err(SendRequestError::Invalid {
            field: "options",
            ..
        })
    ));
    assert!(matches!(
        read(json!({"domain": "go.example.com", "trackClicks": "yes"})),
        Err(SendRequestError::Invalid {
            field: "options",
            ..
        })
    ));
    assert!(matches!(
        read(json!({"domain": "https://go.example.com"})),
        Err(SendRequestError::Invalid {
            field: "options",
            ..
        })
    ));
    // `null` means absent, as for the other optional fields.
    assert!(read(Value::Null).unwrap().link_options().is_none());
}

#[test]
fn reading_options_is_lenient_where_the_platform_is_silent() {
    // Tags out of order on the wire, flags as strings, and an unknown key.
    let back = read(json!({
        "tag2": "b", "domain": "go.example.com", "tag1": "a",
        "shortenLinks": "true", "allowFallbackURL": "false", "utmSource": "wa"
    }))
    .unwrap();
    let options = back.link_options().unwrap();
    assert_eq!(options.tags(), ["a", "b"]);
    assert_eq!(options.shorten_links(), Some(true));
    assert_eq!(options.allow_fallback_url(), Some(false));
    assert_eq!(options.track_clicks(), None);
    // The unknown key is kept, so the request is passed on as it came.
    assert_eq!(wire(&back)["options"]["utmSource"], "wa");
    // `tag0` and `tag01` are not tags: kept as unknown keys.
    let back = read(json!({"domain": "go.example.com", "tag0": "z", "tag01": "y"})).unwrap();
    assert!(back.link_options().unwrap().tags().is_empty());
    assert_eq!(wire(&back)["options"]["tag0"], "z");
}

#[test]
fn flags_go_out_as_the_published_strings_and_read_back_from_either_form() {
    // Cisco's published samples (reference §13) write every flag as a string.
    let options = LinkOptions::builder("s.imiconnect.co")
        .track_clicks(true)
        .shorten_links(true)
        .allow_fallback_url(false)
        .build()
        .unwrap();
    let json = serde_json::to_value(&options).unwrap();
    assert_eq!(json["trackClicks"], json!("true"));
    assert_eq!(json["shortenLinks"], json!("true"));
    assert_eq!(json["allowFallbackURL"], json!("false"));
    // Reading takes both the strings and JSON booleans, and they mean the same.
    let as_strings = read(json!({
        "domain": "s.imiconnect.co", "trackClicks": "true", "shortenLinks": "true",
        "allowFallbackURL": "false"
    }))
    .unwrap();
    let as_booleans = read(json!({
        "domain": "s.imiconnect.co", "trackClicks": true, "shortenLinks": true,
        "allowFallbackURL": false
    }))
    .unwrap();
    assert_eq!(as_strings.link_options(), Some(&options));
    assert_eq!(as_booleans.link_options(), Some(&options));
    assert_eq!(wire(&as_booleans)["options"], json);
}

#[test]
fn a_copy_for_other_recipients_keeps_the_options() {
    let sent = request(Some(full()));
    let copy = sent
        .with_destinations(vec![webex_connect_whatsapp::send::Destination::new(
            PhoneNumber::parse("+44 7400 654321").unwrap(),
        )])
        .unwrap();
    assert_eq!(copy.link_options(), Some(&full()));
}

#[cfg(feature = "client")]
mod client {
    use super::*;
    use futures_util::StreamExt as _;
    use support::{mock_answering, phone, queued, text};
    use webex_connect_whatsapp::client::BulkResult;
    use wiremock::ResponseTemplate;

    #[tokio::test]
    async fn a_message_carries_its_link_options() {
        let client = support::client("http://127.0.0.1:9");
        let to = PhoneNumber::parse("+44 7400 123456").unwrap();
        let request = client
            .message(&to, text("https://example.com"))
            .link_options(full())
            .request()
            .unwrap();
        assert_eq!(request.link_options(), Some(&full()));
        let plain = client.message(&to, text("hi")).request().unwrap();
        assert!(plain.link_options().is_none());
    }

    #[tokio::test]
    async fn every_bulk_call_carries_the_link_options() {
        let server = mock_answering(ResponseTemplate::new(200).set_body_json(queued("t-1"))).await;
        let client = support::client(&server.uri());
        let results: Vec<BulkResult> = client
            .bulk(text("https://example.com"))
            .call_size(2)
            .link_options(full())
            .send((0..3).map(phone))
            .collect()
            .await;
        assert_eq!(results.len(), 3);
        let requests = server.received_requests().await.unwrap();
        assert_eq!(requests.len(), 2);
        for request in requests {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            assert_eq!(body["options"], serde_json::to_value(full()).unwrap());
        }
    }
}
