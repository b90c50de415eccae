//! Location messages: coordinates, with an optional name and address.

use serde::{Deserialize, Deserializer, Serialize};

use super::{Body, SessionMessage, SessionMessageError, non_empty};

/// A location message.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    longitude: f64,
    latitude: f64,
    name: Option<String>,
    address: Option<String>,
}

impl Location {
    /// Longitude in degrees, -180 to 180.
    pub fn longitude(&self) -> f64 {
        self.longitude
    }

    /// Latitude in degrees, -90 to 90.
    pub fn latitude(&self) -> f64 {
        self.latitude
    }

    /// The place's name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The place's address (shown only with a name).
    pub fn address(&self) -> Option<&str> {
        self.address.as_deref()
    }
}

impl SessionMessage {
    /// Starts a location message.
    ///
    /// ```
    /// use webex_connect_whatsapp::SessionMessage;
    /// let m = SessionMessage::location(17.4349, 78.3984)
    ///     .name("Imimobile")
    ///     .address("Jubilee Hills, Hyderabad")
    ///     .build()?;
    /// assert_eq!(m.as_location().unwrap().name(), Some("Imimobile"));
    /// assert!(SessionMessage::location(91.0, 0.0).build().is_err());
    /// # Ok::<(), webex_connect_whatsapp::session::SessionMessageError>(())
    /// ```
    pub fn location(latitude: f64, longitude: f64) -> LocationBuilder {
        LocationBuilder {
            location: Location {
                longitude,
                latitude,
                name: None,
                address: None,
            },
        }
    }

    /// The location of a location message.
    pub fn as_location(&self) -> Option<&Location> {
        match &self.0 {
            Body::Location(l) => Some(l),
            _ => None,
        }
    }
}

/// Builds a location [`SessionMessage`]; [`build`](Self::build) can fail with a
/// [`SessionMessageError`] (a coordinate out of range, an empty name or address, an address without a name).
#[derive(Debug, Clone)]
#[must_use]
pub struct LocationBuilder {
    location: Location,
}

impl LocationBuilder {
    crate::setters::setters! {
        /// Sets the place's name.
        fn name(self, name: impl Into<String>) => self.location.name = Some(name.into());

        /// Sets the place's address; WhatsApp shows it only with a name.
        fn address(self, address: impl Into<String>) =>
            self.location.address = Some(address.into());
    }

    /// Checks the location: finite coordinates in range, a non-empty name and address when
    /// given, and no address without a name.
    ///
    /// # Errors
    ///
    /// [`SessionMessageError::InvalidCoordinate`], [`SessionMessageError::EmptyField`] or
    /// [`SessionMessageError::AddressWithoutName`].
    pub fn build(self) -> Result<SessionMessage, SessionMessageError> {
        let l = self.location;
        check_coordinate("latitude", l.latitude, 90.0)?;
        check_coordinate("longitude", l.longitude, 180.0)?;
        if l.name.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err(SessionMessageError::EmptyField { field: "name" });
        }
        if l.address.as_deref().is_some_and(|s| s.trim().is_empty()) {
            return Err(SessionMessageError::EmptyField { field: "address" });
        }
        if l.address.is_some() && l.name.is_none() {
            return Err(SessionMessageError::AddressWithoutName);
        }
        Ok(SessionMessage(Body::Location(l)))
    }
}

fn check_coordinate(
    field: &'static str,
    value: f64,
    limit: f64,
) -> Result<(), SessionMessageError> {
    if value.is_finite() && (-limit..=limit).contains(&value) {
        Ok(())
    } else {
        Err(SessionMessageError::InvalidCoordinate {
            field,
            value,
            min: -limit,
            max: limit,
        })
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct LocationWire {
    #[serde(deserialize_with = "lenient_f64")]
    longitude: f64,
    #[serde(deserialize_with = "lenient_f64")]
    latitude: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
}

impl LocationWire {
    pub(super) fn into_message(self) -> Result<SessionMessage, SessionMessageError> {
        let mut builder = SessionMessage::location(self.latitude, self.longitude);
        builder.location.name = non_empty(self.name);
        builder.location.address = non_empty(self.address);
        builder.build()
    }

    pub(super) fn from_message(l: &Location) -> Self {
        Self {
            longitude: l.longitude,
            latitude: l.latitude,
            name: l.name.clone(),
            address: l.address.clone(),
        }
    }
}

/// A number, or a number in a string (inbound locations carry strings).
fn lenient_f64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| serde::de::Error::custom("coordinate out of range")),
        serde_json::Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("coordinate {s:?} is not a number"))),
        other => Err(serde::de::Error::custom(format!(
            "coordinate must be a number, got {other}"
        ))),
    }
}
