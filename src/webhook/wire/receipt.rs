//! A receipt's levels: the `deliveryInfoNotification` object and the `deliveryInfo` object in
//! it, their keys and slots, read by the hand-written scanner ([`scan_notification`]) or by
//! `serde_json` ([`NotificationLevel`]).

use std::fmt;
use std::marker::PhantomData;

use serde::Deserializer;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::scan::{Cursor, read_level};
use super::seed::{Pass, SlotReader, read_seq_slots};
use super::slot::{Key, Kind, Text, take};
use super::top;

/// The `deliveryInfoNotification` object of a receipt body, as read by [`NotificationLevel`].
#[derive(Default)]
#[cfg_attr(test, derive(Debug, PartialEq))]
pub(crate) struct WireNotification {
    /// Indexed like [`NOTIFICATION_KEYS`] minus `deliveryInfo`.
    pub(crate) fields: [Option<Text>; 6],
    /// The `deliveryInfo` object, indexed like [`INFO_KEYS`] (all `None` when absent).
    pub(crate) info: [Option<Text>; 11],
    /// The top-level `bsuid`, `userHandle` and `x-wx-gtrid`, beside the notification.
    pub(crate) top: [Option<Text>; 3],
}

pub(crate) const NOTIFICATION_KEYS: &[&str] = &[
    "deliveryInfo",
    "subtid",
    "transid",
    "callbackData",
    "correlationid",
    "bsuid",
    "userHandle",
];

pub(crate) const SUBTID: usize = 0;
pub(crate) const TRANSID: usize = 1;
pub(crate) const CALLBACK_DATA: usize = 2;
pub(crate) const CORRELATIONID: usize = 3;
pub(crate) const NOTIFICATION_BSUID: usize = 4;
pub(crate) const NOTIFICATION_USER_HANDLE: usize = 5;
/// Slot number of `deliveryInfo` in the notification's seen-set.
pub(crate) const INFO_BIT: usize = 6;

fn notification_key(key: &str) -> Key {
    match key {
        "deliveryInfo" => Key::Object("deliveryInfo"),
        "subtid" => Key::Field(SUBTID, "subtid", Kind::Text),
        "transid" => Key::Field(TRANSID, "transid", Kind::Text),
        "callbackData" => Key::Field(CALLBACK_DATA, "callbackData", Kind::Text),
        "correlationid" => Key::Field(CORRELATIONID, "correlationid", Kind::Text),
        "bsuid" => Key::Field(NOTIFICATION_BSUID, "bsuid", Kind::Text),
        "userHandle" => Key::Field(NOTIFICATION_USER_HANDLE, "userHandle", Kind::Text),
        _ => Key::Unknown,
    }
}

impl WireNotification {
    /// Takes the top-level fields a receipt reads (`bsuid`, `userHandle`, `x-wx-gtrid`) out of
    /// the top level's slots, so the receipt is built from the notification alone.
    pub(crate) fn keep_top(&mut self, top: &mut [Option<Text>]) {
        for (slot, kept) in [top::BSUID, top::USER_HANDLE, top::GTRID]
            .into_iter()
            .zip(&mut self.top)
        {
            *kept = take(top, slot);
        }
    }
}

/// Top-level keys a receipt reads beside `deliveryInfoNotification`.
pub(crate) const TOP_KEYS: &[&str] = &[
    "deliveryInfoNotification",
    "bsuid",
    "userHandle",
    "x-wx-gtrid",
];

pub(crate) const INFO_KEYS: &[&str] = &[
    "deliveryChannel",
    "Description",
    "destinationType",
    "timeStamp",
    "code",
    "additionalInfo",
    "deliveryStatus",
    "destination",
    "identityKeyHash",
    "bsuid",
    "userHandle",
];

pub(crate) const CHANNEL: usize = 0;
pub(crate) const DESCRIPTION: usize = 1;
pub(crate) const DESTINATION_TYPE: usize = 2;
pub(crate) const TIMESTAMP: usize = 3;
pub(crate) const CODE: usize = 4;
pub(crate) const ADDITIONAL_INFO: usize = 5;
pub(crate) const STATUS: usize = 6;
pub(crate) const DESTINATION: usize = 7;
pub(crate) const IDENTITY_KEY_HASH: usize = 8;
pub(crate) const INFO_BSUID: usize = 9;
pub(crate) const INFO_USER_HANDLE: usize = 10;

fn info_key(key: &str) -> Key {
    let field = |slot, name| Key::Field(slot, name, Kind::Text);
    match key {
        "deliveryChannel" => field(CHANNEL, "deliveryChannel"),
        "Description" => field(DESCRIPTION, "Description"),
        "destinationType" => field(DESTINATION_TYPE, "destinationType"),
        "timeStamp" => field(TIMESTAMP, "timeStamp"),
        "code" => field(CODE, "code"),
        "additionalInfo" => field(ADDITIONAL_INFO, "additionalInfo"),
        "deliveryStatus" => field(STATUS, "deliveryStatus"),
        "destination" => field(DESTINATION, "destination"),
        "identityKeyHash" => field(IDENTITY_KEY_HASH, "identityKeyHash"),
        "bsuid" => field(INFO_BSUID, "bsuid"),
        "userHandle" => field(INFO_USER_HANDLE, "userHandle"),
        _ => Key::Unknown,
    }
}

/// A nested level of a receipt, read through [`Optional`]: both levels may be `null`.
trait OptionalLevel<'de> {
    /// Reads the level when it is present (not `null`).
    fn read_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error>;
}

/// Reads a nested level that may be `null` (left unread) or anything else, which goes to
/// [`OptionalLevel::read_some`].
pub(crate) struct Optional<L>(pub(crate) L);

impl<'de, L: OptionalLevel<'de>> DeserializeSeed<'de> for Optional<L> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, L: OptionalLevel<'de>> Visitor<'de> for Optional<L> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("option")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.0.read_some(deserializer)
    }
}

/// The fast reader's `deliveryInfoNotification` object (the cursor just past its `{`): as
/// [`NotificationLevel`] reads it, `None` when the `serde_json` reader must decide.
pub(crate) fn scan_notification(
    cursor: &mut Cursor<'_>,
    notification: &mut WireNotification,
) -> Option<()> {
    let WireNotification { fields, info, .. } = notification;
    read_level(cursor, fields, notification_key, INFO_BIT, |cursor| {
        if cursor.null()? {
            return Some(());
        }
        cursor.open_object()?;
        // `deliveryInfo` has no nested level: `info_key` never names one.
        read_level(cursor, info, info_key, INFO_BIT, |_| None)
    })
}

/// The `deliveryInfoNotification` level, read into `slot` (`null` leaves it `None`).
pub(crate) struct NotificationLevel<'w, 'de> {
    pub(crate) pass: Pass<'de>,
    pub(crate) slot: &'w mut Option<WireNotification>,
}

impl<'de> OptionalLevel<'de> for NotificationLevel<'_, 'de> {
    fn read_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let notification = self.slot.insert(WireNotification::default());
        deserializer.deserialize_struct(
            "WireNotification",
            NOTIFICATION_KEYS,
            NotificationVisitor {
                pass: self.pass,
                notification,
            },
        )
    }
}

struct NotificationVisitor<'w, 'de> {
    pass: Pass<'de>,
    notification: &'w mut WireNotification,
}

impl<'de> Visitor<'de> for NotificationVisitor<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct WireNotification")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let info = Optional(InfoLevel {
            pass: self.pass,
            info: &mut self.notification.info,
        });
        SlotReader::new(self.pass, &mut self.notification.fields).read_map(
            &mut map,
            notification_key,
            info,
        )
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let info = seq.next_element_seed(Optional(InfoLevel {
            pass: self.pass,
            info: &mut self.notification.info,
        }))?;
        if info.is_some() {
            read_seq_slots(
                &mut seq,
                self.pass.body,
                &mut self.notification.fields,
                |_| Kind::Text,
            )?;
        }
        Ok(())
    }
}

/// The `deliveryInfo` level, read into `info` (`null` leaves it empty).
struct InfoLevel<'w, 'de> {
    pass: Pass<'de>,
    info: &'w mut [Option<Text>; 11],
}

impl<'de> OptionalLevel<'de> for InfoLevel<'_, 'de> {
    fn read_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_struct("WireInfo", INFO_KEYS, InfoVisitor(self))
    }
}

struct InfoVisitor<'w, 'de>(InfoLevel<'w, 'de>);

impl<'de> Visitor<'de> for InfoVisitor<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct WireInfo")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let InfoLevel { pass, info } = self.0;
        // `deliveryInfo` has no nested level: `info_key` never names one.
        SlotReader::new(pass, info).read_map(&mut map, info_key, PhantomData::<de::IgnoredAny>)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let InfoLevel { pass, info } = self.0;
        read_seq_slots(&mut seq, pass.body, info, |_| Kind::Text)
    }
}
