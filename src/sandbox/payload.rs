//! The JSON bodies the sandbox posts, in the FAQ's exact format, and their signature.
//!
//! Kept in one place so they can later be built from the crate's webhook models.

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use time::OffsetDateTime;

/// The header that carries the webhook signature.
pub(crate) const SIGNATURE_HEADER: &str = "x-hub-signature";

/// The platform's timestamp form: UTC with milliseconds (`2019-03-04T09:49:20.429Z`).
pub(crate) fn timestamp(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    // Formatting a UTC date with this description only fails for years beyond 9999.
    .unwrap_or_else(|_| at.unix_timestamp().to_string())
}

/// One delivery receipt's variable parts.
#[derive(Debug, Clone)]
pub(crate) struct Receipt<'a> {
    pub(crate) transid: &'a str,
    pub(crate) destination: &'a str,
    pub(crate) correlation_id: &'a str,
    pub(crate) callback_data: &'a str,
    pub(crate) status: &'a ReceiptStatus,
    pub(crate) at: OffsetDateTime,
}

/// What a receipt reports: the code, its `Description`, `deliveryStatus` and `additionalInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ReceiptStatus {
    pub(crate) code: &'static str,
    pub(crate) description: &'static str,
    pub(crate) delivery_status: &'static str,
    pub(crate) additional_info: &'static str,
}

pub(crate) const SUBMITTED: ReceiptStatus = ReceiptStatus {
    code: "7501",
    description: "Submitted",
    delivery_status: "Submitted",
    additional_info: "",
};

pub(crate) const DELIVERED: ReceiptStatus = ReceiptStatus {
    code: "7500",
    description: "Delivered",
    delivery_status: "Delivered",
    additional_info: "",
};

pub(crate) const READ: ReceiptStatus = ReceiptStatus {
    code: "7502",
    description: "Read",
    delivery_status: "Read",
    additional_info: "",
};

/// Texts of the FAQ's 7710 sample.
pub(crate) const REENGAGEMENT: ReceiptStatus = ReceiptStatus {
    code: "7710",
    description: "Re-engagement message",
    delivery_status: "Failed",
    additional_info: "Message failed to send because more than 24 hours have passed since the customer last replied to this number",
};

pub(crate) const TOO_LONG: ReceiptStatus = ReceiptStatus {
    code: "7714",
    description: "Message too long",
    delivery_status: "Failed",
    additional_info: "(#100) | Param text['body'] must be at most 4096 characters long",
};

pub(crate) const PARAM_MISMATCH: ReceiptStatus = ReceiptStatus {
    code: "7804",
    description: "Template param count mismatch",
    delivery_status: "Failed",
    additional_info: "(#132000) | Number of parameters does not match the expected number of params",
};

/// A `deliveryInfoNotification`, as in the FAQ's samples.
pub(crate) fn receipt(r: &Receipt<'_>) -> Value {
    json!({
        "deliveryInfoNotification": {
            "subtid": "",
            "deliveryInfo": {
                "deliveryChannel": "whatsapp",
                "Description": r.status.description,
                "destinationType": "waid",
                "timeStamp": timestamp(r.at),
                "code": r.status.code,
                "additionalInfo": r.status.additional_info,
                "deliveryStatus": r.status.delivery_status,
                "destination": r.destination,
            },
            "correlationid": r.correlation_id,
            "callbackData": r.callback_data,
            "transid": r.transid,
        }
    })
}

/// What a customer sends in an inbound (MO) message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Inbound {
    Text(String),
    Image {
        url: String,
        mime_type: String,
    },
    Location {
        latitude: f64,
        longitude: f64,
        name: String,
        address: String,
    },
}

/// An inbound (MO) event, as in the FAQ's samples: `attachments` and `location` are JSON
/// encoded as strings.
pub(crate) fn inbound(
    app_id: &str,
    waid: &str,
    tid: &str,
    at: OffsetDateTime,
    content: &Inbound,
) -> Value {
    let (message, attachments, location) = match content {
        Inbound::Text(text) => (text.clone(), "[]".to_owned(), String::new()),
        Inbound::Image { url, mime_type } => (
            String::new(),
            json!([{ "mime_type": mime_type, "url": url }]).to_string(),
            String::new(),
        ),
        Inbound::Location {
            latitude,
            longitude,
            name,
            address,
        } => (
            String::new(),
            "[]".to_owned(),
            json!({
                "address": address,
                "latitude": latitude.to_string(),
                "name": name,
                "url": "",
                "longitude": longitude.to_string(),
            })
            .to_string(),
        ),
    };
    json!({
        "userId": "",
        "channel": "WhatsApp",
        "appId": app_id,
        "event": "MO",
        "waid": waid,
        "message": message,
        "attachments": attachments,
        "system": "",
        "location": location,
        "ts": timestamp(at),
        "tid": tid,
    })
}

/// Lowercase hex HMAC-SHA256 of the raw body, the value of `x-hub-signature`.
pub(crate) fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length, so this never fails; an empty string is never a valid
    // signature, so a failure could not go unnoticed.
    match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

/// A random version-4 UUID in its usual text form, the shape of real `transid`s.
pub(crate) fn uuid(rng: &mut fastrand::Rng) -> String {
    let a = rng.u128(..);
    let mut bytes = a.to_be_bytes();
    if let Some(b) = bytes.get_mut(6) {
        *b = (*b & 0x0f) | 0x40;
    }
    if let Some(b) = bytes.get_mut(8) {
        *b = (*b & 0x3f) | 0x80;
    }
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        hex.get(0..8).unwrap_or_default(),
        hex.get(8..12).unwrap_or_default(),
        hex.get(12..16).unwrap_or_default(),
        hex.get(16..20).unwrap_or_default(),
        hex.get(20..32).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_matches_the_faq_sample() {
        let sample: Value = serde_json::from_str(
            r#"{"deliveryInfoNotification":{"subtid":"","deliveryInfo":{"deliveryChannel":"whatsapp","Description":"Submitted","destinationType":"waid","timeStamp":"2019-03-04T09:49:20.429Z","code":"7501","additionalInfo":"","deliveryStatus":"Submitted","destination":"9199xxxxxxxx"},"correlationid":"","callbackData":"","transid":"5c9f6594-a371-4e78-8561-b695f9647472"}}"#,
        )
        .unwrap_or_default();
        let built = receipt(&Receipt {
            transid: "5c9f6594-a371-4e78-8561-b695f9647472",
            destination: "9199xxxxxxxx",
            correlation_id: "",
            callback_data: "",
            status: &SUBMITTED,
            at: time::macros::datetime!(2019-03-04 09:49:20.429 UTC),
        });
        assert_eq!(built, sample);
    }

    #[test]
    fn inbound_text_matches_the_faq_sample() {
        let sample: Value = serde_json::from_str(
            r#"{"userId":"","channel":"WhatsApp","appId":"a_155054536910425280","event":"MO","waid":"9199xxxxxxxx","message":"Hello","attachments":"[]","system":"","location":"","ts":"2019-03-03T07:40:51.297Z","tid":"0cab6280-9d98-0041-4877-0bde6515b15a_0"}"#,
        )
        .unwrap_or_default();
        let built = inbound(
            "a_155054536910425280",
            "9199xxxxxxxx",
            "0cab6280-9d98-0041-4877-0bde6515b15a_0",
            time::macros::datetime!(2019-03-03 07:40:51.297 UTC),
            &Inbound::Text("Hello".to_owned()),
        );
        assert_eq!(built, sample);
    }

    #[test]
    fn signature_is_lowercase_hex_hmac_sha256() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn uuids_have_the_v4_shape() {
        let id = uuid(&mut fastrand::Rng::with_seed(1));
        assert_eq!(id.len(), 36);
        assert_eq!(id.get(14..15), Some("4"));
    }
}
