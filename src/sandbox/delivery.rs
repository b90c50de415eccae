//! Posting webhooks (receipts and inbound messages) the way Webex Connect does: signed when a
//! secret is set, retried after failures, not retried on 400.

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument as _;
use url::Url;

use super::payload::{self, Receipt, ReceiptStatus};
use super::state::{MessageFate, SentWebhook, Shared, WebhookKind};
use crate::ids::TransactionId;
use crate::phone::mask;
use crate::webhook::signature::{self as hub, SignatureAlgorithm};

/// How long one webhook attempt may take, as on the platform.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Statuses after which Webex Connect gives up at once (reference §7.4).
fn is_final(status: u16) -> bool {
    matches!(status, 200..=299 | 300..=399 | 400 | 402 | 404..=411 | 414..=416 | 418 | 505)
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
    let mut attempts = 0_u32;
    let (status, error, delivered) = loop {
        attempts += 1;
        let mut request = shared
            .http
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.clone());
        if let Some(signature) = &signature {
            request = request.header(hub::HEADER, signature.as_str());
        }
        let (status, error) = match request.send().await {
            Ok(response) => {
                let code = response.status().as_u16();
                if response.status().is_success() {
                    break (Some(code), None, true);
                }
                if is_final(code) {
                    break (Some(code), None, false);
                }
                (Some(code), None)
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

/// What the receipts of one queued message need.
#[derive(Debug, Clone)]
pub(crate) struct ReceiptPlan {
    pub(crate) transid: TransactionId,
    pub(crate) waid: String,
    pub(crate) correlation_id: String,
    pub(crate) callback_data: String,
    pub(crate) fate: MessageFate,
    pub(crate) url: Option<Url>,
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
    let span =
        tracing::debug_span!("sandbox_receipts", transid = %plan.transid, waid = %mask(&plan.waid));
    let task_shared = Arc::clone(shared);
    shared.spawn(run_receipts(task_shared, plan).instrument(span));
}

async fn run_receipts(shared: Arc<Shared>, plan: ReceiptPlan) {
    let delays = shared.config.delays;
    let steps: Vec<(Duration, &'static ReceiptStatus)> = match &plan.fate {
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
        let receipt = payload::receipt(&Receipt {
            transid: plan.transid.as_str(),
            destination: &plan.waid,
            correlation_id: &plan.correlation_id,
            callback_data: &plan.callback_data,
            status,
            at: shared.config.clock.now(),
        });
        let body = receipt.raw().as_bytes().to_vec();
        let copies = if plan.duplicate { 2 } else { 1 };
        for _ in 0..copies {
            {
                let mut state = shared.state();
                if let Some(message) = state
                    .message_index
                    .get(&plan.transid)
                    .copied()
                    .and_then(|i| state.messages.get_mut(i))
                {
                    message.receipts.push(status.code().to_owned());
                }
            }
            if let Some(url) = &plan.url {
                let kind = WebhookKind::Receipt {
                    transid: plan.transid.clone(),
                    code: status.code().to_owned(),
                };
                deliver(&shared, url, body.clone(), kind).await;
            }
        }
    }
}
