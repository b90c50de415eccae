//! The top level of a body: the inbound message's fields, each in its slot, and
//! `deliveryInfoNotification`, which holds a receipt.

use super::slot::{Key, Kind};

/// Keys of the top level that the inbound model reads (and so are not "extra"), in the order
/// an array-shaped body fills them (after `deliveryInfoNotification`); the `inbound::*` slot
/// numbers index this list.
pub(crate) const INBOUND_KEYS: &[&str] = &[
    "userId",
    "username",
    "channel",
    "appId",
    "event",
    "waid",
    "message",
    "attachments",
    "contacts",
    "location",
    "system",
    "ts",
    "datetime",
    "tid",
    "transid",
    "identityKeyHash",
    "errors",
    "buttonText",
    "buttonPayload",
    "clientUUID",
    "bsuid",
    "userHandle",
    "x-wx-gtrid",
];

/// Number of inbound fields read from the top level.
pub(crate) const INBOUND_FIELDS: usize = 23;

// Slots of the inbound fields in `Wire::top`, in the order of `INBOUND_KEYS`.
pub(crate) const USER_ID: usize = 0;
pub(crate) const USERNAME: usize = 1;
pub(crate) const CHANNEL: usize = 2;
pub(crate) const APP_ID: usize = 3;
pub(crate) const EVENT: usize = 4;
pub(crate) const WAID: usize = 5;
pub(crate) const MESSAGE: usize = 6;
pub(crate) const ATTACHMENTS: usize = 7;
pub(crate) const CONTACTS: usize = 8;
pub(crate) const LOCATION: usize = 9;
pub(crate) const SYSTEM: usize = 10;
pub(crate) const TS: usize = 11;
pub(crate) const DATETIME: usize = 12;
pub(crate) const TID: usize = 13;
pub(crate) const TRANSID: usize = 14;
pub(crate) const IDENTITY_KEY_HASH: usize = 15;
pub(crate) const ERRORS: usize = 16;
pub(crate) const BUTTON_TEXT: usize = 17;
pub(crate) const BUTTON_PAYLOAD: usize = 18;
pub(crate) const CLIENT_UUID: usize = 19;
pub(crate) const BSUID: usize = 20;
pub(crate) const USER_HANDLE: usize = 21;
pub(crate) const GTRID: usize = 22;

pub(super) fn top_key(key: &str) -> Key {
    let field = |slot, name| Key::Field(slot, name, Kind::Text);
    match key {
        "deliveryInfoNotification" => Key::Object("deliveryInfoNotification"),
        "userId" => field(USER_ID, "userId"),
        "username" => field(USERNAME, "username"),
        "channel" => field(CHANNEL, "channel"),
        "appId" => field(APP_ID, "appId"),
        "event" => field(EVENT, "event"),
        "waid" => field(WAID, "waid"),
        "message" => field(MESSAGE, "message"),
        "attachments" => Key::Field(ATTACHMENTS, "attachments", Kind::Literal),
        "contacts" => Key::Field(CONTACTS, "contacts", Kind::Literal),
        "location" => Key::Field(LOCATION, "location", Kind::Literal),
        "system" => field(SYSTEM, "system"),
        "ts" => field(TS, "ts"),
        "datetime" => field(DATETIME, "datetime"),
        "tid" => field(TID, "tid"),
        "transid" => field(TRANSID, "transid"),
        "identityKeyHash" => field(IDENTITY_KEY_HASH, "identityKeyHash"),
        "errors" => field(ERRORS, "errors"),
        "buttonText" => field(BUTTON_TEXT, "buttonText"),
        "buttonPayload" => field(BUTTON_PAYLOAD, "buttonPayload"),
        "clientUUID" => field(CLIENT_UUID, "clientUUID"),
        "bsuid" => field(BSUID, "bsuid"),
        "userHandle" => field(USER_HANDLE, "userHandle"),
        "x-wx-gtrid" => field(GTRID, "x-wx-gtrid"),
        _ => Key::Unknown,
    }
}

/// The kind of an inbound slot (for array-shaped bodies, where there is no key).
pub(super) fn inbound_kind(slot: usize) -> Kind {
    match slot {
        ATTACHMENTS | CONTACTS | LOCATION => Kind::Literal,
        _ => Kind::Text,
    }
}

/// The top-level fields a receipt reads beside `deliveryInfoNotification` (siblings that other
/// pipes add, reference §6 and §13).
pub(super) const RECEIPT_TOP_SLOTS: [usize; 3] = [BSUID, USER_HANDLE, GTRID];

/// [`top_key`], and for a body read as a receipt (`receipt_only`) the inbound fields as unknown
/// keys, neither read nor checked for repeats. Both readers (fast and `serde_json`) take it, so
/// they agree on what a receipt refuses.
// Inlined: the fast reader calls it once per top-level key.
#[inline]
pub(super) fn top_key_for(key: &str, receipt_only: bool) -> Key {
    match top_key(key) {
        Key::Field(slot, ..) if receipt_only && !RECEIPT_TOP_SLOTS.contains(&slot) => Key::Unknown,
        key => key,
    }
}

/// Slot number of `deliveryInfoNotification` in the top level's seen-set.
pub(super) const NOTIFICATION_BIT: usize = INBOUND_FIELDS;
