//! The sandbox as a test would use it: plain HTTP in, webhooks out to a local collector.
#![cfg(feature = "sandbox")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::Notify;
use url::Url;
use webex_connect_whatsapp::Bsuid;
use webex_connect_whatsapp::sandbox::{
    DestinationType, Fault, MessageFate, RandomFaults, RequestFate, ResponseShape, Sandbox,
    SandboxClock, SandboxError, SandboxUser, WebhookKind,
};
use webex_connect_whatsapp::send::{ResponseCode, SendResponse};

const WAID: &str = "919900012345";
const SECRET: &str = "hub-secret";

// ---------------------------------------------------------------- collector

#[derive(Debug, Clone)]
struct Hit {
    path: String,
    signature: Option<String>,
    gtrid: Option<String>,
    body: Vec<u8>,
    json: Value,
}

#[derive(Clone, Default)]
struct Inner {
    hits: Arc<Mutex<Vec<Hit>>>,
    /// Statuses to answer, in order; 200 once empty.
    statuses: Arc<Mutex<VecDeque<u16>>>,
    notify: Arc<Notify>,
}

struct Collector {
    base: Url,
    inner: Inner,
}

async fn collect(
    State(inner): State<Inner>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let hit = Hit {
        path: uri.path().to_owned(),
        signature: headers
            .get("x-hub-signature")
            .map(|v| v.to_str().unwrap().to_owned()),
        gtrid: headers
            .get("x-wx-gtrid")
            .map(|v| v.to_str().unwrap().to_owned()),
        json: serde_json::from_slice(&body).unwrap_or(Value::Null),
        body: body.to_vec(),
    };
    inner.hits.lock().unwrap().push(hit);
    inner.notify.notify_waiters();
    let status = inner.statuses.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

impl Collector {
    async fn start() -> Self {
        let inner = Inner::default();
        let app = axum::Router::new()
            .route("/{*path}", post(collect))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            base: Url::parse(&format!("http://{addr}/")).unwrap(),
            inner,
        }
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).unwrap()
    }

    fn answer_with(&self, statuses: &[u16]) {
        self.inner.statuses.lock().unwrap().extend(statuses);
    }

    fn hits(&self) -> Vec<Hit> {
        self.inner.hits.lock().unwrap().clone()
    }

    /// Waits (up to 10 s, a hang guard rather than a timing assertion) for `n` hits.
    async fn wait_for(&self, n: usize) -> Vec<Hit> {
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let notified = self.inner.notify.notified();
                let hits = self.hits();
                if hits.len() >= n {
                    return hits;
                }
                notified.await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("expected {n} webhooks, got {:?}", self.hits()))
    }
}

// ---------------------------------------------------------------- helpers

fn text_body(app: &str, text: &str) -> Value {
    json!({
        "deliverychannel": "whatsapp",
        "appid": app,
        "destination": [{ "waid": [WAID] }],
        "channels": { "OTT-Messaging": { "wa": { "type": "text", "text": { "body": text } } } }
    })
}

fn template_body(app: &str, template: &str, parameters: &Value) -> Value {
    json!({
        "deliverychannel": "whatsapp",
        "appid": app,
        "destination": [{ "waid": [WAID] }],
        "message": { "template": template, "parameters": parameters }
    })
}

thread_local! {
    // One client per test thread: building one loads TLS roots, which is slow in debug builds,
    // and each test has its own runtime, which a client's pooled connections belong to.
    static CLIENT: reqwest::Client = reqwest::Client::new();
}

fn client() -> reqwest::Client {
    CLIENT.with(Clone::clone)
}

struct Answer {
    status: u16,
    response: Option<SendResponse>,
    raw: Value,
}

async fn post_raw(sandbox: &Sandbox, headers: &[(&str, &str)], body: Vec<u8>) -> Answer {
    let mut request = client()
        .post(sandbox.messaging_url())
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    Answer {
        status,
        response: SendResponse::from_slice(&bytes).ok(),
        raw: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

async fn send(sandbox: &Sandbox, body: &Value) -> Answer {
    let key = sandbox.service_key().to_owned();
    post_raw(sandbox, &[("key", &key)], serde_json::to_vec(body).unwrap()).await
}

fn code(answer: &Answer) -> ResponseCode {
    answer.response.as_ref().unwrap().entries()[0].code.clone()
}

fn assert_rejected(answer: &Answer, expected: &ResponseCode, status: u16) {
    assert_eq!(answer.status, status, "{:?}", answer.raw);
    assert!(
        answer.raw["response"].is_object(),
        "rejections answer an object: {:?}",
        answer.raw
    );
    assert_eq!(&code(answer), expected, "{:?}", answer.raw);
}

fn hmac_hex(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn codes(hits: &[Hit]) -> Vec<String> {
    hits.iter()
        .map(|h| {
            h.json["deliveryInfoNotification"]["deliveryInfo"]["code"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn fast_sandbox(collector: &Collector) -> Sandbox {
    Sandbox::builder()
        .delivery_url(collector.url("dlr"))
        .webhook_secret(SECRET)
        .receipt_delays(Duration::ZERO, Duration::ZERO, Duration::ZERO)
        .webhook_retry_delay(Duration::from_millis(1))
        .start()
        .await
        .unwrap()
}

async fn open_window(sandbox: &Sandbox) {
    sandbox.inbound_text(WAID, "hi").await.unwrap();
}

// ---------------------------------------------------------------- start / stop

#[tokio::test]
async fn starts_on_loopback_and_stops_on_shutdown_and_drop() {
    let sandbox = Sandbox::start().await.unwrap();
    let url = sandbox.messaging_url();
    assert_eq!(url.host_str(), Some("127.0.0.1"));
    assert_eq!(url.path(), "/resources/v1/messaging");
    assert_eq!(
        sandbox.base_url().join("resources/v1/messaging").unwrap(),
        url
    );
    let debug = format!("{sandbox:?}");
    assert!(!debug.contains(sandbox.service_key()), "{debug}");

    let answer = send(&sandbox, &json!({})).await;
    assert_eq!(answer.status, 400);
    sandbox.shutdown().await;
    assert!(reqwest::Client::new().post(url).send().await.is_err());

    let sandbox = Sandbox::start().await.unwrap();
    let url = sandbox.messaging_url();
    drop(sandbox);
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(reqwest::Client::new().post(url).send().await.is_err());
}

#[tokio::test]
async fn other_paths_are_not_found() {
    let sandbox = Sandbox::start().await.unwrap();
    let status = reqwest::Client::new()
        .post(sandbox.base_url().join("v2/messages").unwrap())
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404);
}

// ---------------------------------------------------------------- auth

#[tokio::test]
async fn service_key_is_checked() {
    let sandbox = Sandbox::start().await.unwrap();
    open_window(&sandbox).await;
    let body = serde_json::to_vec(&text_body(sandbox.app_id().as_str(), "hi")).unwrap();

    let good = post_raw(&sandbox, &[("key", sandbox.service_key())], body.clone()).await;
    assert_eq!(good.status, 200);
    assert_eq!(code(&good), ResponseCode::Queued);

    let bad = post_raw(&sandbox, &[("key", "wrong")], body.clone()).await;
    assert_rejected(&bad, &ResponseCode::AuthenticationFailed, 401);
    assert_eq!(bad.raw["response"]["description"], "Authentication failed.");

    let missing = post_raw(&sandbox, &[], body.clone()).await;
    assert_rejected(&missing, &ResponseCode::ServiceKeyMissing, 401);

    // The channel APIs' form: the bare key in Authorization.
    let bare = post_raw(&sandbox, &[("authorization", sandbox.service_key())], body).await;
    assert_eq!(code(&bare), ResponseCode::Queued);
}

#[tokio::test]
async fn jwt_is_verified_and_wins_over_the_key() {
    let sandbox = Sandbox::start().await.unwrap();
    open_window(&sandbox).await;
    let body = serde_json::to_vec(&text_body(sandbox.app_id().as_str(), "hi")).unwrap();
    let bearer = |t: &str| format!("Bearer {t}");

    let good = post_raw(
        &sandbox,
        &[("authorization", &bearer(&sandbox.jwt()))],
        body.clone(),
    )
    .await;
    assert_eq!(code(&good), ResponseCode::Queued);

    // 59 minutes old is still fine; 61 is not.
    let fresh =
        sandbox.jwt_issued_at(time::OffsetDateTime::now_utc() - time::Duration::minutes(59));
    let answer = post_raw(
        &sandbox,
        &[("authorization", &bearer(&fresh))],
        body.clone(),
    )
    .await;
    assert_eq!(code(&answer), ResponseCode::Queued);
    let old = sandbox.jwt_issued_at(time::OffsetDateTime::now_utc() - time::Duration::minutes(61));
    let answer = post_raw(&sandbox, &[("authorization", &bearer(&old))], body.clone()).await;
    assert_rejected(&answer, &ResponseCode::AuthenticationFailed, 401);

    // A token from another sandbox (another secret and service id).
    let other = Sandbox::start().await.unwrap();
    let answer = post_raw(
        &sandbox,
        &[("authorization", &bearer(&other.jwt()))],
        body.clone(),
    )
    .await;
    assert_rejected(&answer, &ResponseCode::AuthenticationFailed, 401);

    // A tampered signature.
    let mut token = sandbox.jwt();
    let last = token.pop().unwrap();
    token.push(if last == 'A' { 'B' } else { 'A' });
    let answer = post_raw(
        &sandbox,
        &[("authorization", &bearer(&token))],
        body.clone(),
    )
    .await;
    assert_rejected(&answer, &ResponseCode::AuthenticationFailed, 401);

    // Garbage.
    let answer = post_raw(
        &sandbox,
        &[("authorization", "Bearer not.a.jwt")],
        body.clone(),
    )
    .await;
    assert_rejected(&answer, &ResponseCode::AuthenticationFailed, 401);

    // JWT wins: a bad token with a good key fails, a good token with a bad key passes.
    let answer = post_raw(
        &sandbox,
        &[
            ("authorization", &bearer(&old)),
            ("key", sandbox.service_key()),
        ],
        body.clone(),
    )
    .await;
    assert_rejected(&answer, &ResponseCode::AuthenticationFailed, 401);
    let answer = post_raw(
        &sandbox,
        &[("authorization", &bearer(&sandbox.jwt())), ("key", "wrong")],
        body,
    )
    .await;
    assert_eq!(code(&answer), ResponseCode::Queued);
}

#[tokio::test]
async fn configured_credentials_are_used() {
    let sandbox = Sandbox::builder()
        .app_id(webex_connect_whatsapp::AppId::new("a_155054536910425280").unwrap())
        .service_key("my-key")
        .service_id("s_1")
        .service_secret("c2VjcmV0")
        .start()
        .await
        .unwrap();
    assert_eq!(sandbox.app_id().as_str(), "a_155054536910425280");
    assert_eq!(sandbox.service_key(), "my-key");
    assert_eq!(sandbox.service_id(), "s_1");
    assert_eq!(sandbox.service_secret(), "c2VjcmV0");
    assert!(
        Sandbox::builder()
            .service_secret("not base64!")
            .start()
            .await
            .is_err()
    );
}

// ---------------------------------------------------------------- envelope

#[tokio::test]
async fn envelope_errors_get_their_codes() {
    let sandbox = Sandbox::start().await.unwrap();
    let app = sandbox.app_id().to_string();
    let key = sandbox.service_key().to_owned();

    let answer = post_raw(&sandbox, &[("key", &key)], b"{not json".to_vec()).await;
    assert_rejected(&answer, &ResponseCode::InvalidJson, 400);

    let mut body = text_body(&app, "hi");
    body.as_object_mut().unwrap().remove("appid");
    assert_rejected(
        &send(&sandbox, &body).await,
        &ResponseCode::MandatoryParametersMissing,
        400,
    );

    let mut body = text_body(&app, "hi");
    body.as_object_mut().unwrap().remove("destination");
    assert_rejected(
        &send(&sandbox, &body).await,
        &ResponseCode::MandatoryParametersMissing,
        400,
    );

    let mut body = text_body(&app, "hi");
    body["deliverychannel"] = json!("sms");
    assert_rejected(
        &send(&sandbox, &body).await,
        &ResponseCode::InvalidParameters,
        400,
    );

    let mut body = text_body(&app, "hi");
    body["notifyurl"] = json!("not a url");
    assert_rejected(
        &send(&sandbox, &body).await,
        &ResponseCode::InvalidParameters,
        400,
    );

    let mut body = text_body(&app, "hi");
    body["destination"] = Value::Array(vec![json!({ "waid": [WAID] }); 1001]);
    assert_rejected(
        &send(&sandbox, &body).await,
        &ResponseCode::TooManyDestinations,
        400,
    );

    let body = text_body("a_999", "hi");
    assert_rejected(
        &send(&sandbox, &body).await,
        &ResponseCode::InvalidAppId,
        400,
    );

    let body = template_body(&app, "404", &json!({}));
    let answer = send(&sandbox, &body).await;
    assert_rejected(&answer, &ResponseCode::InvalidTemplateId, 400);
    assert!(answer.raw["response"]["transid"].is_string());

    assert!(sandbox.messages().is_empty());
}

fn transid_of(answer: &Answer) -> webex_connect_whatsapp::TransactionId {
    answer.response.as_ref().unwrap().entries()[0]
        .transaction_id
        .clone()
        .unwrap()
}

fn info(hit: &Hit) -> &Value {
    &hit.json["deliveryInfoNotification"]["deliveryInfo"]
}

#[tokio::test]
async fn a_request_gets_one_transid_for_all_its_destinations() {
    let collector = Collector::start().await;
    let sandbox = fast_sandbox(&collector).await;
    let others = ["447400123456", "15550001111"];
    sandbox.inbound_text(WAID, "hi").await.unwrap();
    sandbox
        .inbound_text(&format!("+{}", others[0]), "hi")
        .await
        .unwrap();
    sandbox.inbound_text(others[1], "hi").await.unwrap();
    let mut body = text_body(sandbox.app_id().as_str(), "hello");
    body["destination"] = json!([
        { "waid": [WAID], "correlationid": "c-1" },
        { "waid": [others[0]] },
        { "waid": [format!("+{}", others[1])] }
    ]);
    body["correlationid"] = json!("req-1");
    let answer = send(&sandbox, &body).await;
    assert_eq!(answer.status, 200);
    // The documented sample's shape: one entry, one transid for the whole request.
    assert_eq!(
        answer.raw,
        json!({ "response": [{
            "code": "1001",
            "transid": transid_of(&answer).as_str(),
            "description": "Queued"
        }] })
    );
    let transid = transid_of(&answer);

    let messages = sandbox.messages_for(&transid);
    let destinations: Vec<_> = messages.iter().map(|m| m.destination.as_str()).collect();
    assert_eq!(destinations, [WAID, others[0], others[1]]);
    assert!(messages.iter().all(|m| m.transaction_id == transid));
    assert!(
        messages
            .iter()
            .all(|m| m.destination_type == DestinationType::Waid)
    );
    assert_eq!(messages[0].correlation_id.as_deref(), Some("c-1"));
    assert_eq!(messages[1].correlation_id.as_deref(), Some("req-1"));
    assert_eq!(messages[0].kind, "text");
    assert_eq!(
        sandbox.message_to(&transid, others[1]).unwrap().fate,
        MessageFate::Read
    );
    assert_eq!(sandbox.messages().len(), 3);

    // Three receipts per destination, each naming its destination, all with the one transid.
    let hits = collector.wait_for(9).await;
    sandbox.settled().await;
    for destination in [WAID, others[0], others[1]] {
        let mine: Vec<_> = hits
            .iter()
            .filter(|h| info(h)["destination"] == destination)
            .collect();
        let mut codes: Vec<_> = mine.iter().map(|h| info(h)["code"].clone()).collect();
        codes.sort_by_key(ToString::to_string);
        assert_eq!(codes, ["7500", "7501", "7502"], "{destination}");
        for hit in mine {
            assert_eq!(
                hit.json["deliveryInfoNotification"]["transid"],
                transid.as_str()
            );
            assert_eq!(info(hit)["destinationType"], "waid");
        }
    }
    match &sandbox.requests().last().unwrap().fate {
        RequestFate::Answered { queued, .. } => assert_eq!(queued, &[transid]),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_response_can_list_every_destination_under_the_shared_transid() {
    let sandbox = Sandbox::builder()
        .response_shape(ResponseShape::PerDestination)
        .start()
        .await
        .unwrap();
    let mut body = text_body(sandbox.app_id().as_str(), "hello");
    body["destination"] = json!([{ "waid": [WAID] }, { "waid": ["447400123456"] }]);
    let response = send(&sandbox, &body).await.response.unwrap();
    let entries = response.entries();
    assert_eq!(entries.len(), 2);
    assert!(response.is_queued());
    assert_eq!(entries[0].transaction_id, entries[1].transaction_id);
    assert_eq!(sandbox.messages().len(), 2);
}

fn bsuid(text: &str) -> Bsuid {
    Bsuid::new(text).unwrap()
}

const ASHA: &str = "US.13491208655302741918";

#[tokio::test]
async fn a_bsuid_destination_gets_receipts_that_name_the_bsuid() {
    let collector = Collector::start().await;
    let sandbox = fast_sandbox(&collector).await;
    let mut body = text_body(sandbox.app_id().as_str(), "hello");
    body["destination"] = json!([{ "bsuid": [ASHA] }]);

    // Asha never wrote: a session message fails with 7710, naming her BSUID.
    let answer = send(&sandbox, &body).await;
    assert_eq!(code(&answer), ResponseCode::Queued);
    let hits = collector.wait_for(1).await;
    assert_eq!(info(&hits[0])["code"], "7710");
    assert_eq!(info(&hits[0])["destination"], ASHA);
    assert_eq!(info(&hits[0])["destinationType"], "bsuid");

    // A username user writes: the window opens for the BSUID.
    let asha = SandboxUser::by_username(bsuid(ASHA), "asha");
    sandbox.inbound_text_from(&asha, "hi").await.unwrap();
    let answer = send(&sandbox, &body).await;
    let hits = collector.wait_for(4).await;
    assert_eq!(codes(&hits[1..]), ["7501", "7500", "7502"]);
    for hit in &hits[1..] {
        assert_eq!(info(hit)["destination"], ASHA);
        assert_eq!(info(hit)["destinationType"], "bsuid");
    }
    let message = sandbox.message(&transid_of(&answer)).unwrap();
    assert_eq!(message.destination, ASHA);
    assert_eq!(message.destination_type, DestinationType::Bsuid);
    // ...but not for anyone else.
    let mut other = body.clone();
    other["destination"] = json!([{ "bsuid": ["BR.1502576394655843"] }]);
    send(&sandbox, &other).await;
    assert_eq!(codes(&collector.wait_for(5).await)[4], "7710");

    // A malformed BSUID is an invalid value.
    other["destination"] = json!([{ "bsuid": ["13491208655302741918"] }]);
    assert_rejected(
        &send(&sandbox, &other).await,
        &ResponseCode::InvalidParameters,
        400,
    );
}

#[tokio::test]
async fn a_message_with_both_ids_opens_the_window_for_either() {
    let collector = Collector::start().await;
    let sandbox = fast_sandbox(&collector).await;
    let ravi = SandboxUser::phone(WAID)
        .unwrap()
        .with_bsuid(bsuid("IN.2149372115"));
    sandbox.inbound_text_from(&ravi, "hi").await.unwrap();
    let app = sandbox.app_id().to_string();
    send(&sandbox, &text_body(&app, "by phone")).await;
    let mut by_id = text_body(&app, "by id");
    by_id["destination"] = json!([{ "bsuid": ["IN.2149372115"] }]);
    send(&sandbox, &by_id).await;
    sandbox.settled().await;
    let fates: Vec<_> = sandbox.messages().into_iter().map(|m| m.fate).collect();
    assert_eq!(fates, [MessageFate::Read, MessageFate::Read]);
}

#[tokio::test]
async fn a_username_user_writes_with_user_id_and_username_and_no_waid() {
    let collector = Collector::start().await;
    let sandbox = signing_inbound_to(&collector).await;
    let asha = SandboxUser::by_username(bsuid(ASHA), "asha");
    let tid = sandbox.inbound_text_from(&asha, "Hello").await.unwrap();
    let hit = &collector.wait_for(1).await[0];
    assert_eq!(hit.signature.as_deref(), Some(hmac_hex(&hit.body).as_str()));
    let ts = hit.json["ts"].as_str().unwrap();
    assert_eq!(
        hit.json,
        json!({
            "userId": ASHA,
            "username": "asha",
            "channel": "WhatsApp",
            "appId": sandbox.app_id().as_str(),
            "event": "MO",
            "message": "Hello",
            "attachments": "[]",
            "system": "",
            "location": "",
            "ts": ts,
            "tid": tid
        })
    );
    // The crate's parser reads it as a message from a username user.
    let parsed = webex_connect_whatsapp::webhook::InboundMessage::from_slice(&hit.body).unwrap();
    assert_eq!(parsed.waid(), None);
    assert_eq!(parsed.bsuid().map(Bsuid::as_str), Some(ASHA));
    assert_eq!(parsed.username(), Some("asha"));

    // A phone user who has a BSUID sends both.
    let ravi = SandboxUser::phone(WAID)
        .unwrap()
        .with_bsuid(bsuid("IN.2149372115"));
    sandbox.inbound_text_from(&ravi, "hi").await.unwrap();
    let hit = &collector.wait_for(2).await[1];
    assert_eq!(hit.json["waid"], WAID);
    assert_eq!(hit.json["userId"], "IN.2149372115");
}

// ---------------------------------------------------------------- receipts

#[tokio::test]
async fn receipts_arrive_in_faq_format_signed_and_echoing_ids() {
    let collector = Collector::start().await;
    let sandbox = Sandbox::builder()
        .webhook_secret(SECRET)
        .receipt_delays(
            Duration::ZERO,
            Duration::from_millis(5),
            Duration::from_millis(5),
        )
        .start()
        .await
        .unwrap();
    open_window(&sandbox).await;
    let mut body = text_body(sandbox.app_id().as_str(), "hello");
    body["destination"][0]["correlationid"] = json!("order-17");
    body["callbackData"] = json!("{\"order\":17}");
    body["notifyurl"] = json!(collector.url("notify").as_str());
    let answer = send(&sandbox, &body).await;
    let transid = answer.response.unwrap().entries()[0]
        .transaction_id
        .clone()
        .unwrap();

    let hits = collector.wait_for(3).await;
    assert_eq!(codes(&hits), ["7501", "7500", "7502"]);
    for (hit, status) in hits.iter().zip(["Submitted", "Delivered", "Read"]) {
        assert_eq!(hit.path, "/notify");
        assert_eq!(hit.signature.as_deref(), Some(hmac_hex(&hit.body).as_str()));
        assert!(
            hit.gtrid.as_deref().is_some_and(|g| !g.is_empty()),
            "x-wx-gtrid header"
        );
        let info = &hit.json["deliveryInfoNotification"]["deliveryInfo"];
        let stamp = info["timeStamp"].as_str().unwrap();
        assert_eq!(stamp.len(), "2019-03-04T09:49:20.429Z".len(), "{stamp}");
        assert!(stamp.ends_with('Z'));
        time::OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339).unwrap();
        let code = info["code"].as_str().unwrap();
        assert_eq!(
            hit.json,
            json!({
                "deliveryInfoNotification": {
                    "subtid": "",
                    "deliveryInfo": {
                        "deliveryChannel": "whatsapp",
                        "Description": status,
                        "destinationType": "waid",
                        "timeStamp": stamp,
                        "code": code,
                        "additionalInfo": "",
                        "deliveryStatus": status,
                        "destination": WAID
                    },
                    "correlationid": "order-17",
                    "callbackData": "{\"order\":17}",
                    "transid": transid.as_str()
                }
            })
        );
    }
    let gtrids: HashSet<_> = hits.iter().map(|h| h.gtrid.clone()).collect();
    assert_eq!(gtrids.len(), 3, "one x-wx-gtrid per webhook");
    sandbox.settled().await;
    assert_eq!(
        sandbox.message(&transid).unwrap().receipts,
        ["7501", "7500", "7502"]
    );
}

#[tokio::test]
async fn receipts_without_ids_carry_empty_strings_and_go_to_the_service_url() {
    let collector = Collector::start().await;
    let sandbox = fast_sandbox(&collector).await;
    open_window(&sandbox).await;
    send(&sandbox, &text_body(sandbox.app_id().as_str(), "hello")).await;
    let hits = collector.wait_for(3).await;
    assert!(hits.iter().all(|h| h.path == "/dlr"));
    let n = &hits[0].json["deliveryInfoNotification"];
    assert_eq!(n["correlationid"], "");
    assert_eq!(n["callbackData"], "");
}

#[tokio::test]
async fn without_a_secret_webhooks_are_not_signed() {
    let collector = Collector::start().await;
    let sandbox = Sandbox::builder()
        .delivery_url(collector.url("dlr"))
        .start()
        .await
        .unwrap();
    open_window(&sandbox).await;
    send(&sandbox, &text_body(sandbox.app_id().as_str(), "hello")).await;
    let hits = collector.wait_for(3).await;
    assert!(hits.iter().all(|h| h.signature.is_none()));
}

// ---------------------------------------------------------------- conversation

#[tokio::test]
async fn inbound_messages_are_posted_in_faq_format() {
    let collector = Collector::start().await;
    let sandbox = signing_inbound_to(&collector).await;
    let tid = sandbox
        .inbound_text(&format!("+{WAID}"), "Hello")
        .await
        .unwrap();
    let image = Url::parse("https://example.com/a.jpg").unwrap();
    sandbox
        .inbound_image(WAID, &image, "image/jpeg")
        .await
        .unwrap();
    sandbox
        .inbound_location(WAID, 17.5, 78.25, "Imimobile", "Jubilee Hills")
        .await
        .unwrap();
    let hits = collector.wait_for(3).await;
    let text = &hits[0];
    assert_eq!(text.path, "/mo");
    assert_eq!(
        text.signature.as_deref(),
        Some(hmac_hex(&text.body).as_str())
    );
    let ts = text.json["ts"].as_str().unwrap();
    assert_eq!(
        text.json,
        json!({
            "userId": "",
            "channel": "WhatsApp",
            "appId": sandbox.app_id().as_str(),
            "event": "MO",
            "waid": WAID,
            "message": "Hello",
            "attachments": "[]",
            "system": "",
            "location": "",
            "ts": ts,
            "tid": tid
        })
    );
    let attachments: Value =
        serde_json::from_str(hits[1].json["attachments"].as_str().unwrap()).unwrap();
    assert_eq!(
        attachments,
        json!([{ "mime_type": "image/jpeg", "url": "https://example.com/a.jpg" }])
    );
    assert_eq!(hits[1].json["message"], "");
    let location: Value = serde_json::from_str(hits[2].json["location"].as_str().unwrap()).unwrap();
    assert_eq!(location["latitude"], "17.5");
    assert_eq!(location["longitude"], "78.25");
    assert_eq!(location["name"], "Imimobile");
    assert_eq!(hits[2].json["attachments"], "[]");

    assert!(sandbox.inbound_text("", "x").await.is_err());
    assert!(sandbox.inbound_text("12ab", "x").await.is_err());
}

#[tokio::test]
async fn session_window_opens_with_inbound_and_closes_after_24_hours() {
    let collector = Collector::start().await;
    let clock = SandboxClock::manual();
    let sandbox = Sandbox::builder()
        .clock(clock.clone())
        .delivery_url(collector.url("dlr"))
        .receipt_delays(Duration::ZERO, Duration::ZERO, Duration::ZERO)
        .start()
        .await
        .unwrap();
    let app = sandbox.app_id().to_string();

    // Never wrote: outside the window. The request itself is accepted.
    let mut body = text_body(&app, "hello");
    body["correlationid"] = json!("123456789");
    let answer = send(&sandbox, &body).await;
    assert_eq!(code(&answer), ResponseCode::Queued);
    let hits = collector.wait_for(1).await;
    let transid = answer.response.unwrap().entries()[0]
        .transaction_id
        .clone()
        .unwrap();
    let stamp = hits[0].json["deliveryInfoNotification"]["deliveryInfo"]["timeStamp"].clone();
    assert_eq!(
        hits[0].json,
        json!({
            "deliveryInfoNotification": {
                "deliveryInfo": {
                    "timeStamp": stamp,
                    "Description": "Re-engagement message",
                    "code": "7710",
                    "deliveryChannel": "whatsapp",
                    "additionalInfo": "Message failed to send because more than 24 hours have passed since the customer last replied to this number",
                    "destination": WAID,
                    "destinationType": "waid",
                    "deliveryStatus": "Failed"
                },
                "subtid": "",
                "transid": transid.as_str(),
                "callbackData": "",
                "correlationid": "123456789"
            }
        })
    );

    // The customer writes: the window is open.
    open_window(&sandbox).await;
    clock.advance(Duration::from_hours(23));
    send(&sandbox, &text_body(&app, "hello")).await;
    assert_eq!(
        codes(&collector.wait_for(4).await)[1..],
        ["7501", "7500", "7502"]
    );

    // 24 hours after the customer's message: closed again.
    clock.advance(Duration::from_hours(1));
    send(&sandbox, &text_body(&app, "hello")).await;
    assert_eq!(codes(&collector.wait_for(5).await)[4], "7710");
    let fates: Vec<_> = sandbox.messages().into_iter().map(|m| m.fate).collect();
    let failed = MessageFate::Failed {
        code: "7710".into(),
    };
    assert_eq!(fates, [failed.clone(), MessageFate::Read, failed]);

    // Templates are allowed outside the window.
    sandbox.register_template("t1", ["name"]);
    send(
        &sandbox,
        &template_body(&app, "t1", &json!({ "name": "Ann" })),
    )
    .await;
    assert_eq!(
        codes(&collector.wait_for(8).await)[5..],
        ["7501", "7500", "7502"]
    );
}

#[tokio::test]
async fn text_over_4096_characters_fails_with_7714() {
    let collector = Collector::start().await;
    let sandbox = fast_sandbox(&collector).await;
    open_window(&sandbox).await;
    let app = sandbox.app_id().to_string();
    // Characters, not bytes: 4096 two-byte characters are fine.
    send(&sandbox, &text_body(&app, &"é".repeat(4096))).await;
    assert_eq!(
        codes(&collector.wait_for(3).await),
        ["7501", "7500", "7502"]
    );
    send(&sandbox, &text_body(&app, &"a".repeat(4097))).await;
    let hits = collector.wait_for(4).await;
    let info = &hits[3].json["deliveryInfoNotification"]["deliveryInfo"];
    assert_eq!(info["code"], "7714");
    assert_eq!(info["deliveryStatus"], "Failed");
}

#[tokio::test]
async fn templates_must_be_registered_with_matching_parameters() {
    let collector = Collector::start().await;
    let sandbox = fast_sandbox(&collector).await;
    let app = sandbox.app_id().to_string();
    sandbox.register_template("5139722425", ["movie", "time"]);

    let unknown = send(
        &sandbox,
        &template_body(&app, "999", &json!({ "movie": "x" })),
    )
    .await;
    assert_rejected(&unknown, &ResponseCode::InvalidTemplateId, 400);

    let ok = send(
        &sandbox,
        &template_body(
            &app,
            "5139722425",
            &json!({ "movie": "joker", "time": "8pm" }),
        ),
    )
    .await;
    assert_eq!(code(&ok), ResponseCode::Queued);
    assert_eq!(
        codes(&collector.wait_for(3).await),
        ["7501", "7500", "7502"]
    );

    let missing = send(
        &sandbox,
        &template_body(&app, "5139722425", &json!({ "movie": "x" })),
    )
    .await;
    assert_eq!(code(&missing), ResponseCode::Queued);
    let hits = collector.wait_for(4).await;
    let info = &hits[3].json["deliveryInfoNotification"]["deliveryInfo"];
    assert_eq!(info["code"], "7804");
    assert_eq!(info["deliveryStatus"], "Failed");

    let extra = json!({ "movie": "x", "time": "y", "seat": "z" });
    send(&sandbox, &template_body(&app, "5139722425", &extra)).await;
    assert_eq!(codes(&collector.wait_for(5).await)[4], "7804");
    let messages = sandbox.messages();
    assert_eq!(messages[0].kind, "template");
    assert_eq!(messages[0].template_id.as_deref(), Some("5139722425"));
}

// ---------------------------------------------------------------- faults

/// A sandbox that posts inbound messages to `collector`'s `mo` path, signed with [`SECRET`].
async fn signing_inbound_to(collector: &Collector) -> Sandbox {
    Sandbox::builder()
        .inbound_url(collector.url("mo"))
        .webhook_secret(SECRET)
        .start()
        .await
        .unwrap()
}

async fn windowed(collector: &Collector) -> (Sandbox, Value) {
    let sandbox = fast_sandbox(collector).await;
    open_window(&sandbox).await;
    let body = text_body(sandbox.app_id().as_str(), "hello");
    (sandbox, body)
}

/// Posts `body` with a fault that drops the connection, and returns what the client got (an
/// error): there is no answer to read.
async fn send_dropped(
    sandbox: &Sandbox,
    body: &Value,
    fault: &str,
) -> reqwest::Result<reqwest::Response> {
    reqwest::Client::new()
        .post(sandbox.messaging_url())
        .header("key", sandbox.service_key())
        .header("x-sandbox-fault", fault)
        .json(body)
        .send()
        .await
}

async fn send_with_fault(sandbox: &Sandbox, body: &Value, fault: &str) -> Answer {
    let key = sandbox.service_key().to_owned();
    post_raw(
        sandbox,
        &[("key", &key), ("x-sandbox-fault", fault)],
        serde_json::to_vec(body).unwrap(),
    )
    .await
}

#[tokio::test]
async fn fault_rate_limit_and_internal_error_are_not_queued() {
    let collector = Collector::start().await;
    let (sandbox, body) = windowed(&collector).await;
    let answer = send_with_fault(&sandbox, &body, "rate-limit").await;
    assert_rejected(&answer, &ResponseCode::RateLimited, 429);
    let answer = send_with_fault(&sandbox, &body, "internal-error").await;
    assert_rejected(&answer, &ResponseCode::InternalError, 500);
    assert!(sandbox.messages().is_empty());
    let requests = sandbox.requests();
    assert_eq!(requests[0].faults, [Fault::RateLimited]);
    assert_eq!(requests[1].faults, [Fault::InternalError]);
}

#[tokio::test]
async fn fault_http_errors_answer_plain_text() {
    let collector = Collector::start().await;
    let (sandbox, body) = windowed(&collector).await;
    for status in [500, 502, 503, 504] {
        let answer = send_with_fault(&sandbox, &body, &format!("http-{status}")).await;
        assert_eq!(answer.status, status);
        assert!(answer.response.is_none());
    }
    assert!(sandbox.messages().is_empty());
}

#[tokio::test]
async fn fault_internal_error_can_come_with_http_200() {
    let collector = Collector::start().await;
    let (sandbox, body) = windowed(&collector).await;
    let answer = send_with_fault(&sandbox, &body, "internal-error-200").await;
    assert_rejected(&answer, &ResponseCode::InternalError, 200);
    assert_eq!(
        answer.raw["response"]["description"],
        "Internal error occurred."
    );
    sandbox.push_fault(Fault::InternalErrorOk);
    assert_rejected(
        &send(&sandbox, &body).await,
        &ResponseCode::InternalError,
        200,
    );
    assert!(sandbox.messages().is_empty());
    assert_eq!(sandbox.requests()[1].faults, [Fault::InternalErrorOk]);
}

#[tokio::test]
async fn fault_gateway_error_after_queue_queues_and_answers_plain_text() {
    let collector = Collector::start().await;
    let (sandbox, body) = windowed(&collector).await;
    for status in [502, 504] {
        let answer = send_with_fault(&sandbox, &body, &format!("http-{status}-after-queue")).await;
        assert_eq!(answer.status, status);
        assert!(answer.response.is_none(), "{:?}", answer.raw);
    }
    let messages = sandbox.messages();
    assert_eq!(messages.len(), 2);
    match &sandbox.requests()[1].fate {
        RequestFate::Answered {
            status,
            response,
            queued,
        } => {
            assert_eq!(*status, 504);
            assert!(response.is_none());
            assert_eq!(queued, &[messages[1].transaction_id.clone()]);
        }
        other => panic!("{other:?}"),
    }
    // Receipts still flow for both.
    assert_eq!(collector.wait_for(6).await.len(), 6);
    // The same message answered 504 twice is queued twice: what a resend would cause.
    assert_eq!(sandbox.queued_twice().len(), 1);
    assert_eq!(sandbox.queued_twice()[0].1, 2);
    assert_eq!(sandbox.queued_twice()[0].0.destination, WAID);
}

#[tokio::test]
async fn fault_redirect_answers_307_and_records_who_follows() {
    let collector = Collector::start().await;
    let (sandbox, body) = windowed(&collector).await;
    let no_follow = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = no_follow
        .post(sandbox.messaging_url())
        .header("key", sandbox.service_key())
        .header("x-sandbox-fault", "redirect")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 307);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, sandbox.redirect_url().as_str());
    assert_ne!(location, sandbox.messaging_url().as_str());
    assert!(sandbox.messages().is_empty());

    // A client that follows it takes its key along, and still queues nothing.
    sandbox.push_fault(Fault::Redirect);
    let followed = reqwest::Client::new()
        .post(sandbox.messaging_url())
        .header("key", sandbox.service_key())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(followed.status(), 404);
    let requests = sandbox.requests();
    let trapped = requests.last().unwrap();
    assert_eq!(trapped.path, sandbox.redirect_url().path());
    assert_eq!(trapped.header("key"), Some("***"));
    assert!(sandbox.messages().is_empty());
}

#[tokio::test]
async fn fault_reply_lost_after_queueing_is_counted_once() {
    let collector = Collector::start().await;
    let (sandbox, mut body) = windowed(&collector).await;
    body["destination"] = json!([
        { "waid": [WAID], "correlationid": "m-1" },
        { "bsuid": [ASHA], "correlationid": "m-2" }
    ]);
    let result = send_dropped(&sandbox, &body, "drop-after-queue").await;
    assert!(result.is_err(), "{result:?}");
    let counts = sandbox.queue_counts();
    assert_eq!(counts.len(), 2);
    assert!(counts.values().all(|n| *n == 1));
    let keys: Vec<_> = counts
        .keys()
        .map(|k| (k.destination.as_str(), k.correlation_id.as_deref()))
        .collect();
    assert!(keys.contains(&(WAID, Some("m-1"))));
    assert!(keys.contains(&(ASHA, Some("m-2"))));
    assert!(sandbox.queued_twice().is_empty());
    // Receipts flow for both destinations (the BSUID one fails: Asha never wrote).
    let hits = collector.wait_for(4).await;
    assert_eq!(
        hits.iter()
            .filter(|h| info(h)["destination"] == ASHA)
            .map(|h| info(h)["code"].clone())
            .collect::<Vec<_>>(),
        ["7710"]
    );
}

#[tokio::test]
async fn tps_limit_rejects_with_7020() {
    let clock = SandboxClock::manual();
    let sandbox = Sandbox::builder()
        .clock(clock.clone())
        .tps_limit(2)
        .start()
        .await
        .unwrap();
    open_window(&sandbox).await;
    let body = text_body(sandbox.app_id().as_str(), "hello");
    assert_eq!(code(&send(&sandbox, &body).await), ResponseCode::Queued);
    assert_eq!(code(&send(&sandbox, &body).await), ResponseCode::Queued);
    assert_rejected(
        &send(&sandbox, &body).await,
        &ResponseCode::RateLimited,
        429,
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(code(&send(&sandbox, &body).await), ResponseCode::Queued);
    sandbox.set_tps_limit(None);
    for _ in 0..3 {
        assert_eq!(code(&send(&sandbox, &body).await), ResponseCode::Queued);
    }
}

#[tokio::test]
async fn fault_drop_before_body_queues_nothing() {
    let collector = Collector::start().await;
    let (sandbox, body) = windowed(&collector).await;
    let result = send_dropped(&sandbox, &body, "drop-before-body").await;
    assert!(result.is_err(), "{result:?}");
    assert!(sandbox.messages().is_empty());
    let requests = sandbox.requests();
    assert_eq!(requests[0].fate, RequestFate::Dropped { queued: vec![] });
    assert_eq!(requests[0].body, "");
    // The sandbox keeps serving.
    assert_eq!(code(&send(&sandbox, &body).await), ResponseCode::Queued);
}

#[tokio::test]
async fn fault_drop_after_queue_queues_but_does_not_answer() {
    let collector = Collector::start().await;
    let (sandbox, body) = windowed(&collector).await;
    let result = send_dropped(&sandbox, &body, "drop-after-queue").await;
    assert!(result.is_err(), "{result:?}");
    let messages = sandbox.messages();
    assert_eq!(messages.len(), 1);
    let requests = sandbox.requests();
    assert_eq!(
        requests[0].fate,
        RequestFate::Dropped {
            queued: vec![messages[0].transaction_id.clone()]
        }
    );
    // Receipts still flow.
    assert_eq!(
        codes(&collector.wait_for(3).await),
        ["7501", "7500", "7502"]
    );
}

#[tokio::test]
async fn fault_latency_delays_the_answer_after_queueing() {
    let collector = Collector::start().await;
    let (sandbox, body) = windowed(&collector).await;
    let answer = send_with_fault(&sandbox, &body, "latency=30ms").await;
    assert_eq!(code(&answer), ResponseCode::Queued);

    // A client that gives up first does not know, but the message is queued.
    let result = reqwest::Client::new()
        .post(sandbox.messaging_url())
        .timeout(Duration::from_millis(50))
        .header("key", sandbox.service_key())
        .header("x-sandbox-fault", "latency=5000ms")
        .json(&body)
        .send()
        .await;
    assert!(result.unwrap_err().is_timeout());
    assert_eq!(sandbox.messages().len(), 2);
    assert_eq!(
        sandbox.requests()[1].faults,
        [Fault::Latency(Duration::from_secs(5))]
    );
}

#[tokio::test]
async fn fault_duplicate_receipts_posts_each_twice() {
    let collector = Collector::start().await;
    let (sandbox, body) = windowed(&collector).await;
    send_with_fault(&sandbox, &body, "duplicate-receipts").await;
    sandbox.settled().await;
    assert_eq!(
        codes(&collector.wait_for(6).await),
        ["7501", "7501", "7500", "7500", "7502", "7502"]
    );
}

#[tokio::test]
async fn fault_out_of_order_posts_read_before_delivered() {
    let collector = Collector::start().await;
    let (sandbox, body) = windowed(&collector).await;
    send_with_fault(&sandbox, &body, "out-of-order-receipts").await;
    assert_eq!(
        codes(&collector.wait_for(3).await),
        ["7501", "7502", "7500"]
    );
}

#[tokio::test]
async fn faults_from_correlation_ids_and_the_queue() {
    let collector = Collector::start().await;
    let (sandbox, body) = windowed(&collector).await;

    let mut by_id = body.clone();
    by_id["correlationid"] = json!("fault:rate-limit:order-1");
    assert_rejected(
        &send(&sandbox, &by_id).await,
        &ResponseCode::RateLimited,
        429,
    );
    let mut by_destination = body.clone();
    by_destination["destination"][0]["correlationid"] = json!("fault:internal-error:2");
    assert_rejected(
        &send(&sandbox, &by_destination).await,
        &ResponseCode::InternalError,
        500,
    );

    sandbox.push_fault(Fault::HttpStatus(503));
    sandbox.push_fault(Fault::RateLimited);
    assert_eq!(send(&sandbox, &body).await.status, 503);
    // A correlation-id fault outranks the queue, which keeps its fault for the next request.
    assert_rejected(
        &send(&sandbox, &by_destination).await,
        &ResponseCode::InternalError,
        500,
    );
    assert_rejected(
        &send(&sandbox, &body).await,
        &ResponseCode::RateLimited,
        429,
    );
    assert_eq!(code(&send(&sandbox, &body).await), ResponseCode::Queued);

    sandbox.push_fault(Fault::DropBeforeBody);
    sandbox.clear_faults();
    assert_eq!(code(&send(&sandbox, &body).await), ResponseCode::Queued);

    let answer = send_with_fault(&sandbox, &body, "no-such-fault").await;
    assert_rejected(&answer, &ResponseCode::InvalidParameters, 400);
}

#[tokio::test]
async fn random_faults_repeat_with_the_same_seed() {
    async fn run(seed: u64) -> Vec<String> {
        let faults = RandomFaults::new(
            seed,
            0.5,
            [
                Fault::RateLimited,
                Fault::InternalError,
                Fault::HttpStatus(503),
            ],
        )
        .unwrap();
        let sandbox = Sandbox::builder()
            .random_faults(faults)
            .start()
            .await
            .unwrap();
        open_window(&sandbox).await;
        let body = text_body(sandbox.app_id().as_str(), "hello");
        let mut outcomes = Vec::new();
        for _ in 0..40 {
            let answer = send(&sandbox, &body).await;
            outcomes.push(match answer.response {
                Some(r) => r.entries()[0].code.to_string(),
                None => answer.status.to_string(),
            });
        }
        outcomes
    }
    let first = run(42).await;
    assert_eq!(first, run(42).await);
    assert!(first.iter().any(|c| c == "1001"));
    assert!(first.iter().any(|c| c != "1001"));
}

// ---------------------------------------------------------------- webhook retries

#[tokio::test]
async fn failed_webhooks_are_retried_three_times() {
    let collector = Collector::start().await;
    let (sandbox, body) = windowed(&collector).await;
    collector.answer_with(&[500, 500, 500, 500]);
    send(&sandbox, &body).await;
    sandbox.settled().await;
    let hits = collector.hits();
    // 4 attempts of Submitted, then Delivered and Read once each.
    assert_eq!(
        codes(&hits),
        ["7501", "7501", "7501", "7501", "7500", "7502"]
    );
    let webhooks = sandbox.webhooks();
    let receipts: Vec<_> = webhooks
        .iter()
        .filter(|w| matches!(w.kind, WebhookKind::Receipt { .. }))
        .collect();
    assert_eq!(receipts[0].attempts, 4);
    assert_eq!(receipts[0].status, Some(500));
    assert!(!receipts[0].delivered);
    assert_eq!(receipts[1].attempts, 1);
    assert!(receipts[1].delivered);
}

#[tokio::test]
async fn webhooks_are_not_retried_after_400_and_succeed_on_a_later_attempt() {
    let collector = Collector::start().await;
    let (sandbox, body) = windowed(&collector).await;
    collector.answer_with(&[400, 503, 200]);
    send(&sandbox, &body).await;
    sandbox.settled().await;
    assert_eq!(codes(&collector.hits()), ["7501", "7500", "7500", "7502"]);
    let receipts: Vec<_> = sandbox
        .webhooks()
        .into_iter()
        .filter(|w| matches!(w.kind, WebhookKind::Receipt { .. }))
        .collect();
    assert_eq!((receipts[0].attempts, receipts[0].status), (1, Some(400)));
    assert!(!receipts[0].delivered);
    assert_eq!((receipts[1].attempts, receipts[1].delivered), (2, true));
}

#[tokio::test]
async fn webhooks_not_answered_200_are_retried_and_3xx_are_not() {
    let collector = Collector::start().await;
    let (sandbox, body) = windowed(&collector).await;
    // 201 and 429 are not on the platform's no-retry list; 307 is.
    collector.answer_with(&[201, 429, 200, 307]);
    send(&sandbox, &body).await;
    sandbox.settled().await;
    assert_eq!(
        codes(&collector.hits()),
        ["7501", "7501", "7501", "7500", "7502"]
    );
    let receipts: Vec<_> = sandbox
        .webhooks()
        .into_iter()
        .filter(|w| matches!(w.kind, WebhookKind::Receipt { .. }))
        .collect();
    assert_eq!((receipts[0].attempts, receipts[0].delivered), (3, true));
    assert_eq!(
        (
            receipts[1].attempts,
            receipts[1].status,
            receipts[1].delivered
        ),
        (1, Some(307), false)
    );
    match &receipts[0].kind {
        WebhookKind::Receipt { destination, .. } => assert_eq!(destination, WAID),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn injected_events_of_any_kind_are_posted_signed_and_retried_until_200() {
    let collector = Collector::start().await;
    let sandbox = Sandbox::builder()
        .inbound_url(collector.url("mo"))
        .webhook_secret(SECRET)
        .webhook_retry_delay(Duration::from_millis(1))
        .start()
        .await
        .unwrap();
    let event = json!({ "event": "user_id_update", "waid": WAID, "userId": ASHA, "new": {"x": 1} });
    collector.answer_with(&[500, 503]);
    let sent = sandbox.inject_event(event.clone()).await.unwrap();
    assert_eq!(
        (sent.attempts, sent.status, sent.delivered),
        (3, Some(200), true)
    );
    assert_eq!(
        sent.kind,
        WebhookKind::Event {
            event: Some("user_id_update".into())
        }
    );
    let hits = collector.wait_for(3).await;
    for hit in &hits {
        assert_eq!(hit.path, "/mo");
        assert_eq!(hit.json, event);
        assert_eq!(hit.signature.as_deref(), Some(hmac_hex(&hit.body).as_str()));
    }

    // A kind named by the test, in the app webhooks' envelope, from a username user.
    let asha = SandboxUser::by_username(bsuid(ASHA), "asha");
    let extra = json!({ "reaction": { "emoji": "👍", "message_id": "wamid.1" } });
    sandbox.send_event("reaction", &asha, extra).await.unwrap();
    let hit = &collector.wait_for(4).await[3];
    assert_eq!(hit.json["event"], "reaction");
    assert_eq!(hit.json["userId"], ASHA);
    assert_eq!(hit.json["username"], "asha");
    assert_eq!(hit.json["appId"], sandbox.app_id().as_str());
    assert_eq!(hit.json["reaction"]["emoji"], "👍");
    assert!(hit.json.get("waid").is_none());

    // 400 is not retried: the event is lost, and the sandbox says so.
    collector.answer_with(&[400]);
    let err = sandbox
        .inject_event(json!({ "event": "typing" }))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        SandboxError::InboundNotDelivered {
            attempts: 1,
            status: Some(400)
        }
    ));
    // Only objects are events.
    assert!(matches!(
        sandbox.inject_event(json!("reaction")).await,
        Err(SandboxError::InvalidEvent { .. })
    ));
    sandbox.set_inbound_url(None);
    assert!(matches!(
        sandbox.inject_event(json!({})).await,
        Err(SandboxError::NoInboundUrl)
    ));
}

#[tokio::test]
async fn unreachable_receivers_are_retried_and_reported() {
    // A port nothing listens on: bind, note, close.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = Url::parse(&format!("http://{}/mo", listener.local_addr().unwrap())).unwrap();
    drop(listener);
    let sandbox = Sandbox::builder()
        .inbound_url(dead)
        .webhook_retry_delay(Duration::from_millis(1))
        .start()
        .await
        .unwrap();
    let err = sandbox.inbound_text(WAID, "hi").await.unwrap_err();
    assert!(err.to_string().contains("4 attempts"), "{err}");
    let webhooks = sandbox.webhooks();
    assert_eq!(webhooks[0].attempts, 4);
    assert_eq!(webhooks[0].status, None);
    assert!(webhooks[0].error.is_some());
    // The customer's message still opened the window.
    let answer = send(&sandbox, &text_body(sandbox.app_id().as_str(), "x")).await;
    let transid = answer.response.unwrap().entries()[0]
        .transaction_id
        .clone()
        .unwrap();
    assert_eq!(sandbox.message(&transid).unwrap().fate, MessageFate::Read);
}

// ---------------------------------------------------------------- logs

#[tokio::test]
async fn requests_webhooks_and_messages_can_be_read_back() {
    let collector = Collector::start().await;
    let (sandbox, body) = windowed(&collector).await;
    let mut first = body.clone();
    first["correlationid"] = json!("order-1");
    send(&sandbox, &first).await;
    send(&sandbox, &first).await; // the same message, sent twice
    let mut second = body.clone();
    second["correlationid"] = json!("order-2");
    send(&sandbox, &second).await;
    let jwt = format!("Bearer {}", sandbox.jwt());
    post_raw(&sandbox, &[("authorization", &jwt)], b"{}".to_vec()).await;
    sandbox.settled().await;

    let requests = sandbox.requests();
    assert_eq!(requests.len(), 4);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].path, "/resources/v1/messaging");
    assert_eq!(requests[0].header("key"), Some("***"));
    assert_eq!(requests[3].header("authorization"), Some("***"));
    let all = format!("{requests:?}");
    assert!(!all.contains(sandbox.service_key()));
    assert!(!all.contains(&sandbox.jwt()[..20]));
    assert_eq!(
        serde_json::from_str::<Value>(&requests[0].body).unwrap(),
        first
    );
    match &requests[0].fate {
        RequestFate::Answered {
            status,
            response,
            queued,
        } => {
            assert_eq!(*status, 200);
            assert!(response.as_ref().unwrap().is_queued());
            assert_eq!(queued.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        requests[3].fate,
        RequestFate::Answered { status: 400, .. }
    ));

    assert_eq!(sandbox.messages().len(), 3);
    assert_eq!(sandbox.duplicate_correlation_ids(), ["order-1"]);
    let twice = sandbox.queued_twice();
    assert_eq!(twice.len(), 1);
    assert_eq!(twice[0].0.correlation_id.as_deref(), Some("order-1"));
    assert_eq!(twice[0].1, 2);
    assert_eq!(sandbox.queue_counts().len(), 2);

    let webhooks = sandbox.webhooks();
    assert_eq!(webhooks.len(), 9);
    assert!(webhooks.iter().all(|w| w.delivered && w.attempts == 1));
    assert!(webhooks.iter().all(|w| w.url == collector.url("dlr")));
    let w = &webhooks[0];
    assert_eq!(
        w.signature.as_deref(),
        Some(hmac_hex(w.body.as_bytes()).as_str())
    );
}
