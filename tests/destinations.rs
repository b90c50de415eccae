//! Destinations that carry both a `waid` and a `bsuid`: the platform uses the `waid`
//! (reference §13), and so do this crate's readers and the sandbox.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use serde_json::json;
use webex_connect_whatsapp::sandbox::{DestinationType, Sandbox};
use webex_connect_whatsapp::send::{Destination, SendRequest};

const WAID: &str = "919900012345";
const BSUID: &str = "IN.2149372115";

#[test]
fn a_destination_read_with_both_ids_is_addressed_by_its_waid() {
    let d: Destination = serde_json::from_value(json!({"bsuid": [BSUID], "waid": [WAID]})).unwrap();
    assert_eq!(d.id(), Some(WAID));
    assert_eq!(d.ids().collect::<Vec<_>>(), [WAID, BSUID]);
    // Both are kept, so the request reads back exactly as it came.
    let back = serde_json::to_value(&d).unwrap();
    assert_eq!(back, json!({"waid": [WAID], "bsuid": [BSUID]}));
}

#[tokio::test]
async fn the_sandbox_sends_a_destination_with_both_ids_once_to_the_waid() {
    let sandbox = Sandbox::start().await.unwrap();
    let body = json!({
        "deliverychannel": "whatsapp",
        "appid": sandbox.app_id().as_str(),
        "destination": [{ "bsuid": [BSUID], "waid": [WAID] }],
        "channels": { "OTT-Messaging": { "wa": { "type": "text", "text": { "body": "hi" } } } }
    });
    // The body is one the crate reads, too.
    SendRequest::from_slice(&serde_json::to_vec(&body).unwrap()).unwrap();
    let answer = reqwest::Client::new()
        .post(sandbox.messaging_url())
        .header("key", sandbox.service_key())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let messages = sandbox.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert_eq!(messages[0].destination, WAID);
    assert_eq!(messages[0].destination_type, DestinationType::Waid);
}
