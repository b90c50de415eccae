//! Client settings from `WEBEX_CONNECT_*` environment variables, so that every program (and
//! every example) reads the same variables the same way and names the one that is wrong.

use std::env::VarError;
use std::num::NonZeroU32;

use url::Url;

use super::auth::{Credentials, JwtCredentials, ServiceKey};
use super::builder::{ClientBuilder, Region, check_base_url};
use super::error::Error;
use super::{
    APP_ID_VAR, BASE_URL_VAR, Client, REGION_VAR, SERVICE_ID_VAR, SERVICE_KEY_VAR,
    SERVICE_SECRET_VAR, TPS_VAR,
};
use crate::ids::AppId;

impl ClientBuilder {
    /// Starts a builder configured from the environment:
    ///
    /// | variable | meaning |
    /// |---|---|
    /// | `WEBEX_CONNECT_SERVICE_KEY` ([`SERVICE_KEY_VAR`]) | the service key |
    /// | `WEBEX_CONNECT_SERVICE_ID` ([`SERVICE_ID_VAR`]) | JWT instead of a key: the service id |
    /// | `WEBEX_CONNECT_SERVICE_SECRET` ([`SERVICE_SECRET_VAR`]) | JWT: the service secret (base64) |
    /// | `WEBEX_CONNECT_APP_ID` ([`APP_ID_VAR`]) | the WhatsApp app id (`a_…`) |
    /// | `WEBEX_CONNECT_REGION` ([`REGION_VAR`]) | the region, e.g. `eu` (see [`Region`]) |
    /// | `WEBEX_CONNECT_BASE_URL` ([`BASE_URL_VAR`]) | replaces the region when set |
    /// | `WEBEX_CONNECT_TPS` ([`TPS_VAR`]) | optional: the rate limit in messages per second |
    ///
    /// Credentials are a service key, or a JWT minted from the service id and secret (both
    /// must be set). When a key and a JWT pair are both set, the **JWT is used**: Webex
    /// Connect itself uses the JWT when a request carries both, so the key would be ignored
    /// anyway. Every variable that is set is still checked.
    ///
    /// A blank variable counts as unset. Settings made on the returned builder override the
    /// environment, and fill what it lacks (`.region(Region::Us)` as a default, `.jwt(...)`
    /// instead of a service key).
    ///
    /// ```no_run
    /// use webex_connect_whatsapp::client::ClientBuilder;
    ///
    /// let client = ClientBuilder::from_env().build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// A missing or invalid variable is reported by [`ClientBuilder::build`] as [`Error::Env`],
    /// which names the variable and never repeats the service key or the service secret.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name))
    }

    /// [`ClientBuilder::from_env`] with the variables read through `lookup`, so that tests
    /// need not change the process environment (which is shared by every test thread).
    pub(crate) fn from_lookup(lookup: impl Fn(&str) -> Result<String, VarError>) -> Self {
        let mut builder = Client::builder();
        builder.from_env = true;
        let read = |name: &'static str| match lookup(name) {
            Ok(value) if value.trim().is_empty() => Ok(None),
            Ok(value) => Ok(Some(value)),
            Err(VarError::NotPresent) => Ok(None),
            Err(VarError::NotUnicode(_)) => Err(Error::env(name, "is not valid unicode")),
        };
        let settings = (|| {
            if let Some(key) = read(SERVICE_KEY_VAR)? {
                let key = ServiceKey::new(key)
                    .map_err(|e| Error::env_invalid(SERVICE_KEY_VAR, e.into_reason()))?;
                builder.credentials = Some(Credentials::ServiceKey(key));
            }
            let service_id = read(SERVICE_ID_VAR)?;
            let service_secret = read(SERVICE_SECRET_VAR)?;
            if let Some(jwt) = jwt_from(service_id, service_secret)? {
                if builder.credentials.is_some() {
                    tracing::debug!(
                        "both {SERVICE_KEY_VAR} and {SERVICE_ID_VAR}/{SERVICE_SECRET_VAR} are set; using the JWT, as the platform would"
                    );
                }
                builder.credentials = Some(Credentials::Jwt(jwt));
            }
            if let Some(app) = read(APP_ID_VAR)? {
                let app = AppId::new(app).map_err(|e| Error::env_invalid(APP_ID_VAR, e))?;
                builder.app_id = Some(app);
            }
            if let Some(url) = read(BASE_URL_VAR)? {
                let url: Url = url
                    .trim()
                    .parse()
                    // The value is not repeated: a URL may carry a password.
                    .map_err(|e| {
                        Error::env_invalid(
                            BASE_URL_VAR,
                            format!("it is not a URL ({e}); expected https://host[:port][/path]"),
                        )
                    })?;
                check_base_url(&url)
                    .map_err(|e| Error::env_invalid(BASE_URL_VAR, e.into_reason()))?;
                builder.base_url = Some(url);
            } else if let Some(region) = read(REGION_VAR)? {
                let region: Region = region
                    .parse()
                    .map_err(|e: Error| Error::env_invalid(REGION_VAR, e.into_reason()))?;
                builder.base_url = Some(region.base_url());
            }
            if let Some(tps) = read(TPS_VAR)? {
                let rate = tps
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .and_then(NonZeroU32::new)
                    .ok_or_else(|| {
                        Error::env_invalid(
                            TPS_VAR,
                            format!("{tps:?}; it must be a whole number of messages per second, at least 1"),
                        )
                    })?;
                builder.rate_limit = Some(rate);
            }
            Ok::<(), Error>(())
        })();
        if let Err(e) = settings {
            builder.fail(e);
        }
        builder
    }
}

/// JWT credentials from the service id and secret variables: both or neither.
fn jwt_from(
    service_id: Option<String>,
    service_secret: Option<String>,
) -> Result<Option<JwtCredentials>, Error> {
    let pair_note = |other: &str| format!("is not set, but {other} is; a JWT needs both");
    match (service_id, service_secret) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(Error::env(SERVICE_SECRET_VAR, pair_note(SERVICE_ID_VAR))),
        (None, Some(_)) => Err(Error::env(SERVICE_ID_VAR, pair_note(SERVICE_SECRET_VAR))),
        (Some(id), Some(secret)) => {
            // Checked here, so that what `JwtCredentials::new` refuses is the secret alone and
            // each error names the right variable.
            if let Some(position) = id.trim().chars().position(|c| !c.is_ascii_graphic()) {
                return Err(Error::env_invalid(
                    SERVICE_ID_VAR,
                    format!(
                        "the service id has a character that is not visible ASCII at position {position}; only visible ASCII characters are allowed"
                    ),
                ));
            }
            JwtCredentials::new(id, &secret)
                .map(Some)
                .map_err(|e| Error::env_invalid(SERVICE_SECRET_VAR, e.into_reason()))
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

    use std::collections::HashMap;
    use std::env::VarError;

    use super::*;

    fn build(vars: &[(&str, &str)]) -> Result<Client, Error> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ClientBuilder::from_lookup(|name| vars.get(name).cloned().ok_or(VarError::NotPresent))
            .build()
    }

    fn env_error(vars: &[(&str, &str)]) -> (&'static str, String) {
        match build(vars) {
            Err(Error::Env { variable, problem }) => (variable, problem),
            other => panic!("expected an Env error, got {other:?}"),
        }
    }

    const KEY: (&str, &str) = (SERVICE_KEY_VAR, "s3cr3t-key");
    const ID: (&str, &str) = (SERVICE_ID_VAR, "svc-42");
    const SECRET: (&str, &str) = (SERVICE_SECRET_VAR, "bXktc2VydmljZS1zZWNyZXQ="); // "my-service-secret"
    const REGION: (&str, &str) = (REGION_VAR, "eu");

    fn credentials(vars: &[(&str, &str)]) -> String {
        format!("{:?}", build(vars).unwrap())
    }

    #[test]
    fn jwt_variables_give_jwt_credentials() {
        let shown = credentials(&[ID, SECRET, APP, REGION]);
        assert!(shown.contains("Jwt(JwtCredentials"), "{shown}");
        assert!(shown.contains("svc-42"), "{shown}");
        assert!(!shown.contains(SECRET.1), "{shown}");
        let shown = credentials(&[KEY, APP, REGION]);
        assert!(shown.contains("ServiceKey(***)"), "{shown}");
    }

    #[test]
    fn jwt_wins_over_a_service_key() {
        let shown = credentials(&[KEY, ID, SECRET, APP, REGION]);
        assert!(shown.contains("Jwt(JwtCredentials"), "{shown}");
        assert!(!shown.contains("ServiceKey"), "{shown}");
        // An invalid key is still reported, even though the JWT would be used.
        let (variable, _) = env_error(&[(SERVICE_KEY_VAR, "bad key"), ID, SECRET, APP, REGION]);
        assert_eq!(variable, SERVICE_KEY_VAR);
    }

    #[test]
    fn half_a_jwt_pair_names_the_missing_variable() {
        assert_eq!(
            env_error(&[KEY, ID, APP, REGION]),
            (
                SERVICE_SECRET_VAR,
                "is not set, but WEBEX_CONNECT_SERVICE_ID is; a JWT needs both".to_owned()
            )
        );
        assert_eq!(
            env_error(&[SECRET, APP, REGION]),
            (
                SERVICE_ID_VAR,
                "is not set, but WEBEX_CONNECT_SERVICE_SECRET is; a JWT needs both".to_owned()
            )
        );
        // A blank variable counts as unset.
        let (variable, _) = env_error(&[ID, (SERVICE_SECRET_VAR, " "), APP, REGION]);
        assert_eq!(variable, SERVICE_SECRET_VAR);
    }

    #[test]
    fn invalid_jwt_variables_are_named_without_the_secret() {
        let secret = "not*base64*s3cr3t";
        let (variable, problem) = env_error(&[ID, (SERVICE_SECRET_VAR, secret), APP, REGION]);
        assert_eq!(variable, SERVICE_SECRET_VAR);
        assert!(problem.starts_with("is invalid: "), "{problem}");
        assert!(problem.contains("base64"), "{problem}");
        let error = build(&[ID, (SERVICE_SECRET_VAR, secret), APP, REGION]).unwrap_err();
        assert!(!error.to_string().contains("s3cr3t"), "{error}");
        assert!(!format!("{error:?}").contains("s3cr3t"), "{error:?}");

        let (variable, problem) = env_error(&[(SERVICE_ID_VAR, "svc 42"), SECRET, APP, REGION]);
        assert_eq!(variable, SERVICE_ID_VAR);
        assert!(problem.contains("visible ASCII"), "{problem}");
    }
    const APP: (&str, &str) = (APP_ID_VAR, "a_155054536910425280");

    #[test]
    fn region_and_base_url() {
        let client = build(&[KEY, APP, (REGION_VAR, "eu")]).unwrap();
        assert_eq!(
            client.endpoint().as_str(),
            "https://api.eu.webexconnect.io/resources/v1/messaging"
        );
        assert_eq!(client.app_id().as_str(), "a_155054536910425280");
        assert_eq!(client.rate_limit(), None);
        // The base URL wins over the region, even an invalid one.
        let client = build(&[
            KEY,
            APP,
            (REGION_VAR, "mars"),
            (BASE_URL_VAR, "http://127.0.0.1:9/x"),
            (TPS_VAR, "20"),
        ])
        .unwrap();
        assert_eq!(
            client.endpoint().as_str(),
            "http://127.0.0.1:9/x/resources/v1/messaging"
        );
        assert_eq!(client.rate_limit(), Some(20));
    }

    #[test]
    fn missing_variables_are_named() {
        assert_eq!(
            env_error(&[APP, (REGION_VAR, "eu")]),
            (SERVICE_KEY_VAR, "is not set".to_owned())
        );
        assert_eq!(
            env_error(&[KEY, (APP_ID_VAR, "  "), (REGION_VAR, "eu")]),
            (APP_ID_VAR, "is not set".to_owned())
        );
        let (variable, problem) = env_error(&[KEY, APP]);
        assert_eq!(variable, REGION_VAR);
        assert!(problem.contains(BASE_URL_VAR), "{problem}");
    }

    #[test]
    fn later_settings_fill_what_the_environment_lacks() {
        let vars = [KEY, APP];
        let lookup = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
                .ok_or(VarError::NotPresent)
        };
        let client = ClientBuilder::from_lookup(lookup)
            .region(Region::Us)
            .build()
            .unwrap();
        assert_eq!(
            client.endpoint().as_str(),
            "https://api.us.webexconnect.io/resources/v1/messaging"
        );
    }

    #[test]
    fn invalid_variables_are_named_without_the_key() {
        let (variable, problem) = env_error(&[(SERVICE_KEY_VAR, "s3cr3t key"), APP]);
        assert_eq!(variable, SERVICE_KEY_VAR);
        assert!(
            problem.starts_with("is invalid: the service key"),
            "{problem}"
        );
        let shown = build(&[(SERVICE_KEY_VAR, "s3cr3t key"), APP]).unwrap_err();
        assert!(!shown.to_string().contains("s3cr3t"), "{shown}");
        assert!(!format!("{shown:?}").contains("s3cr3t"), "{shown:?}");

        for (vars, wanted) in [
            (
                vec![KEY, (APP_ID_VAR, "a 1"), (REGION_VAR, "eu")],
                APP_ID_VAR,
            ),
            (vec![KEY, APP, (REGION_VAR, "mars")], REGION_VAR),
            (vec![KEY, APP, (BASE_URL_VAR, "not a url")], BASE_URL_VAR),
            (
                vec![KEY, APP, (BASE_URL_VAR, "http://example.com")],
                BASE_URL_VAR,
            ),
            (vec![KEY, APP, (REGION_VAR, "eu"), (TPS_VAR, "0")], TPS_VAR),
            (
                vec![KEY, APP, (REGION_VAR, "eu"), (TPS_VAR, "ten")],
                TPS_VAR,
            ),
        ] {
            let (variable, problem) = env_error(&vars);
            assert_eq!(variable, wanted, "{vars:?}");
            assert!(problem.starts_with("is invalid: "), "{problem}");
        }
        // A base URL may carry a password: neither a malformed one nor one with credentials
        // is repeated.
        for url in [
            "https://user:pa55word@[bad",
            "https://user:pa55word@api.example.com",
        ] {
            let shown = build(&[KEY, APP, (BASE_URL_VAR, url)]).unwrap_err();
            assert!(!shown.to_string().contains("pa55word"), "{shown}");
            assert!(!format!("{shown:?}").contains("pa55word"), "{shown:?}");
        }
        let shown = build(&[KEY, APP, (REGION_VAR, "mars")]).unwrap_err();
        assert!(
            shown.to_string().starts_with(
                "environment variable WEBEX_CONNECT_REGION is invalid: region \"mars\" is unknown"
            ),
            "{shown}"
        );
    }
}
