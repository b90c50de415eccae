//! Posting webhooks (receipts, inbound messages, other events) the way Webex Connect does:
//! signed when a secret is set, retried when not answered 200, except after the statuses the
//! platform does not retry (reference §7.4, §12.3).

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument as _;
use url::Url;

use super::payload::{self, Receipt, ReceiptStatus};
use super::state::{MessageFate, QueuedMessage, SentWebhook, Shared, WebhookKind};
use crate::phone::mask;
use crate::webhook::signature::{self as hub, SignatureAlgorithm};

/// How long one webhook attempt may take, as on the platform.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// What one answer means for a webhook, as Webex Connect reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Done: 200, or a 2xx the platform does not retry (202 to 208, 226).
    Accepted,
    /// Given up at once: 3xx, 400, 402, 404 to 411, 414 to 416, 418, 505 (reference §7.4).
    Refused,
    /// Posted again after the retry delay: anything else, 5xx and 429 included.
    Retry,
}

/// Every event expects 200; the no-retry list is §7.4's. 201 is not on it, so it is retried.
/// UNVERIFIED: whether the platform counts 202..=208 and 226 as delivered or as failed; it
/// does not retry them either way, so a receiver loses nothing it did not already accept.
pub(crate) fn verdict(status: u16) -> Verdict {
    match status {
        200 | 202..=208 | 226 => Verdict::Accepted,
        300..=399 | 400 | 402 | 404..=411 | 414..=416 | 418 | 505 => Verdict::Refused,
        _ => Verdict::Retry,
    }
}

pub(crate) fn http_client() -> Result<reqwest::Client, reqwest::Error> {
    // No proxy: the receivers are on this machine, and a proxy from the environment would
    // swallow or reject the calls.
    reqwest::Client::builder()
        .timeout(ATTEMPT_TIMEOUT)
        .no_proxy()
        .build()
}

/// Posts one webhook body, retrying as configured, and records the result.
pub(crate) async fn deliver(
    shared: &Arc<Shared>,
    url: &Url,
    body: Vec<u8>,
    kind: WebhookKind,
) -> SentWebhook {
    let signature = shared
        .config
        .webhook_secret
        .as_ref()
        .map(|secret| hub::sign(SignatureAlgorithm::Sha256, secret, &body));
    // Cisco's docs (6.17/6.20) name `x-wx-gtrid`, a global transaction id, as a webhook
    // header; one per webhook, the same on each retry. UNVERIFIED: its format; a UUID here.
    let gtrid = crate::client::generate_correlation_id();
    let mut attempts = 0_u32;
    let (status, error, delivered) = loop {
        attempts += 1;
        let mut request = shared
            .http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(crate::receiver::GTRID_HEADER, gtrid.as_str())
            .body(body.clone());
        if let Some(signature) = &signature {
            request = request.header(hub::HEADER, signature.as_str());
        }
        let (status, error) = match request.send().await {
            Ok(response) => {
                let code = response.status().as_u16();
                match verdict(code) {
                    Verdict::Accepted => break (Some(code), None, true),
                    Verdict::Refused => break (Some(code), None, false),
                    Verdict::Retry => (Some(code), None),
                }
            }
            // Without the URL: receivers may carry tokens in their query strings.
            Err(e) => (None, Some(e.without_url().to_string())),
        };
        if attempts > shared.config.webhook_retries {
            break (status, error, false);
        }
        tracing::debug!(attempts, ?status, "webhook not accepted; retrying");
        shared
            .config
            .clock
            .sleep(shared.config.webhook_retry_delay)
            .await;
    };
    let sent = SentWebhook {
        url: url.clone(),
        kind,
        body: String::from_utf8_lossy(&body).into_owned(),
        signature,
        attempts,
        status,
        delivered,
        error,
    };
    if !delivered {
        tracing::warn!(attempts, ?status, "webhook delivery failed");
    }
    shared.state().webhooks.push(sent.clone());
    sent
}

/// What the receipts of one queued message need: the message as queued, where it is kept, and
/// the receipt faults of its request.
#[derive(Debug, Clone)]
pub(crate) struct ReceiptPlan {
    /// Where the message is in the state's `messages`.
    pub(crate) index: usize,
    /// A copy of the message as queued (the state's copy collects the receipts).
    pub(crate) message: QueuedMessage,
    pub(crate) duplicate: bool,
    pub(crate) out_of_order: bool,
}

fn failure_status(code: &str) -> &'static ReceiptStatus {
    match code {
        "7714" => &payload::TOO_LONG,
        "7804" => &payload::PARAM_MISMATCH,
        _ => &payload::REENGAGEMENT,
    }
}

/// Starts the background task that posts a message's receipts.
pub(crate) fn spawn_receipts(shared: &Arc<Shared>, plan: ReceiptPlan) {
    let span = tracing::debug_span!(
        "sandbox_receipts",
        transid = %plan.message.transaction_id,
        destination = %mask(&plan.message.destination),
    );
    let task_shared = Arc::clone(shared);
    shared.spawn(run_receipts(task_shared, plan).instrument(span));
}

async fn run_receipts(shared: Arc<Shared>, plan: ReceiptPlan) {
    let delays = shared.config.delays;
    let steps: Vec<(Duration, &'static ReceiptStatus)> = match &plan.message.fate {
        MessageFate::Read if plan.out_of_order => vec![
            (delays.submitted, &payload::SUBMITTED),
            (delays.delivered, &payload::READ),
            (delays.read, &payload::DELIVERED),
        ],
        MessageFate::Read => vec![
            (delays.submitted, &payload::SUBMITTED),
            (delays.delivered, &payload::DELIVERED),
            (delays.read, &payload::READ),
        ],
        MessageFate::Failed { code } => vec![(delays.submitted, failure_status(code))],
    };
    for (delay, status) in steps {
        shared.config.clock.sleep(delay).await;
        let message = &plan.message;
        let receipt = payload::receipt(&Receipt {
            transaction_id: message.transaction_id.as_str(),
            destination: &message.destination,
            destination_type: message.destination_type,
            correlation_id: message.correlation_id.as_deref().unwrap_or_default(),
            callback_data: message.callback_data.as_deref().unwrap_or_default(),
            status,
            at: shared.config.clock.now(),
        });
        let body = receipt.raw().as_bytes().to_vec();
        let copies = if plan.duplicate { 2 } else { 1 };
        for _ in 0..copies {
            {
                if let Some(kept) = shared.state().messages.get_mut(plan.index) {
                    kept.receipts.push(status.code().to_owned());
                }
            }
            if let Some(url) = &message.notify_url {
                let kind = WebhookKind::Receipt {
                    transaction_id: message.transaction_id.clone(),
                    destination: message.destination.clone(),
                    code: status.code().to_owned(),
                };
                deliver(&shared, url, body.clone(), kind).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_200_and_the_unretried_2xx_count_as_delivered() {
        assert_eq!(verdict(200), Verdict::Accepted);
        assert_eq!(verdict(204), Verdict::Accepted);
        assert_eq!(verdict(201), Verdict::Retry);
        for status in [
            301, 302, 307, 308, 400, 402, 404, 405, 411, 414, 416, 418, 505,
        ] {
            assert_eq!(verdict(status), Verdict::Refused, "{status}");
        }
        for status in [401, 403, 412, 413, 429, 500, 502, 503, 504, 599] {
            assert_eq!(verdict(status), Verdict::Retry, "{status}");
        }
    }
}
