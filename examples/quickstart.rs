//! The whole WhatsApp loop on your machine, offline, in a few seconds:
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! It starts the sandbox (a local imitation of Webex Connect) and a webhook receiver, then:
//! 1. registers a template and sends it (business-initiated, allowed at any time);
//! 2. lets the customer reply, which opens the 24-hour window;
//! 3. sends a text, an image and a location inside the window;
//! 4. hears from a username user, who has no phone number, only a business-scoped user id
//!    (BSUID), and answers them by that id;
//! 5. moves the sandbox clock a day ahead and sends a text, which fails with `7710`.
//!
//! Every delivery receipt and inbound message is printed as the receiver gets it, verified
//! (`x-hub-signature`), parsed into typed events and with duplicates suppressed. The example
//! exits with 0 when everything expected happened, 1 otherwise.
//!
//! # Against a real tenant
//!
//! With these set, it sends to a real number instead (no sandbox, no local receiver):
//!
//! | variable | meaning |
//! |---|---|
//! | `WEBEX_CONNECT_SERVICE_KEY` | the service key of your WhatsApp app's service |
//! | `WEBEX_CONNECT_APP_ID` | the WhatsApp app id (`a_…`) |
//! | `WEBEX_CONNECT_TO` | the recipient, e.g. `+447400123456` |
//! | `WEBEX_CONNECT_REGION` | optional: `us` (default), `us1`, `eu`, `uk`, `ca`, `au`, `in` |
//! | `WEBEX_CONNECT_BASE_URL` | optional: replaces the region (https, or http on loopback) |
//! | `WEBEX_CONNECT_TEMPLATE_ID` | optional: an approved template without variables to send first |
//!
//! The text only arrives if the recipient wrote to your number in the last 24 hours.
//! Receipts then go to the webhook configured in Webex Connect; run
//! `examples/webhook_server.rs` there to see them.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use webex_connect_whatsapp::client::{
    APP_ID_VAR, BASE_URL_VAR, Client, ClientBuilder, REGION_VAR, Region, SERVICE_KEY_VAR,
};
use webex_connect_whatsapp::conversation::delivery::DeliveryState;
use webex_connect_whatsapp::phone::mask;
use webex_connect_whatsapp::receiver::{Receiver, axum::router};
use webex_connect_whatsapp::sandbox::{Sandbox, SandboxClock, SandboxUser};
use webex_connect_whatsapp::webhook::signature::WebhookSecret;
use webex_connect_whatsapp::webhook::{DeliveryCode, WebhookEvent};
use webex_connect_whatsapp::{
    Bsuid, PhoneNumber, Recipient, SessionMessage, TemplateId, TemplateMessage, TransactionId,
};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The customer, a made-up UK mobile number.
const CUSTOMER: &str = "+44 7400 123456";
/// A customer who adopted a username: no phone number, only this business-scoped user id.
const USERNAME_USER: &str = "US.13491208655302741918";
/// The template registered in the sandbox: an order update with two variables.
const TEMPLATE_ID: &str = "5139722425";
/// How long to wait for any one webhook before giving up.
const WAIT: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> ExitCode {
    let live = [SERVICE_KEY_VAR, APP_ID_VAR, "WEBEX_CONNECT_TO"]
        .into_iter()
        .all(is_set);
    let result = if live {
        run_live().await
    } else {
        run_offline().await.map(|_| ())
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("quickstart failed: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What the offline run saw, for the test that runs it.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    /// The transids of the five messages that should be read, in send order.
    pub(crate) read: Vec<TransactionId>,
    /// The transid of the message sent after the window closed.
    pub(crate) failed: Option<TransactionId>,
    /// Delivery receipts handed to the handler (duplicates excluded).
    pub(crate) receipts: usize,
    /// Inbound messages handed to the handler.
    pub(crate) inbound: usize,
}

/// The sandbox, the receiver and a client pointed at the sandbox.
struct World {
    sandbox: Sandbox,
    clock: SandboxClock,
    receiver: Arc<Receiver>,
    arrivals: mpsc::UnboundedReceiver<WebhookEvent>,
    client: Client,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Starts the receiver (which checks signatures with the secret the "platform" signs with),
/// the sandbox (which posts receipts and inbound messages to it) and the client.
async fn start() -> Result<World, BoxError> {
    let secret = WebhookSecret::new("quickstart-hub-secret")?;
    let receiver = Arc::new(Receiver::builder().secret(secret).build()?);
    let (events, arrivals) = mpsc::unbounded_channel();
    let app = axum::Router::new().nest_service(
        "/webhooks",
        router(Arc::clone(&receiver), move |event: WebhookEvent| {
            let events = events.clone();
            async move {
                print_event(&event);
                // The main flow may have finished already; then nobody needs the event.
                let _ = events.send(event);
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/webhooks", listener.local_addr()?);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let clock = SandboxClock::real();
    let sandbox = Sandbox::builder()
        .clock(clock.clone())
        .webhook_secret("quickstart-hub-secret")
        .delivery_url(format!("{base}/receipts").parse()?)
        .inbound_url(format!("{base}/inbound").parse()?)
        .receipt_delays(
            Duration::from_millis(20),
            Duration::from_millis(40),
            Duration::from_millis(40),
        )
        .start()
        .await?;
    println!("sandbox  listening on {}", sandbox.base_url());
    println!("receiver listening on {base}");

    // The client, pointed at the sandbox exactly as it would be at Webex Connect.
    let client = Client::builder()
        .service_key(sandbox.service_key())
        .app_id(sandbox.app_id())
        .base_url(sandbox.base_url())
        .build()?;
    Ok(World {
        sandbox,
        clock,
        receiver,
        arrivals,
        client,
        server,
    })
}

/// The offline tour: sandbox, receiver, sends, receipts.
///
/// # Errors
///
/// When anything expected does not happen within a few seconds.
pub(crate) async fn run_offline() -> Result<Summary, BoxError> {
    let mut w = start().await?;
    let to = PhoneNumber::parse(CUSTOMER)?;
    let mut summary = Summary::default();

    println!("\n== a template message (allowed any time)");
    w.sandbox.register_template(TEMPLATE_ID, ["name", "order"]);
    let template = TemplateMessage::builder(TemplateId::new(TEMPLATE_ID)?)
        .text("name", "Ana")
        .text("order", "#1042")
        .build()?;
    let transid = send(&w.client, &to, template, "template 5139722425").await?;
    wait_for(&mut w, &transid, DeliveryState::is_read).await?;
    summary.read.push(transid);

    println!("\n== the customer replies, which opens the 24-hour window");
    w.sandbox
        .inbound_text(to.waid(), "Hi! When will order #1042 arrive?")
        .await?;
    wait_inbound(&mut w.arrivals).await?;
    summary.inbound += 1;

    println!("\n== session messages inside the window");
    let messages = [
        (
            SessionMessage::text("It ships today and arrives tomorrow.")?,
            "text",
        ),
        (
            SessionMessage::image("https://example.com/parcel.jpg".parse()?, "image/jpeg")
                .caption("Your parcel")
                .build()?,
            "image",
        ),
        (
            SessionMessage::location(51.5033, -0.1196)
                .name("Pickup point")
                .address("Westminster Bridge Rd, London")
                .build()?,
            "location",
        ),
    ];
    for (message, what) in messages {
        let transid = send(&w.client, &to, message, what).await?;
        wait_for(&mut w, &transid, DeliveryState::is_read).await?;
        summary.read.push(transid);
    }

    println!("\n== a username user writes: no phone number, only a BSUID");
    let asha = Bsuid::new(USERNAME_USER)?;
    w.sandbox
        .inbound_text_from(
            &SandboxUser::by_username(asha.clone(), "asha"),
            "Hi, is the shop open?",
        )
        .await?;
    wait_inbound(&mut w.arrivals).await?;
    summary.inbound += 1;
    // The reply goes to the BSUID: `{"bsuid":["US.…"]}`, no `waid`.
    let reply = SessionMessage::text("Yes, until 8pm.")?;
    let transid = send(&w.client, &asha, reply, "text to a BSUID").await?;
    wait_for(&mut w, &transid, DeliveryState::is_read).await?;
    summary.read.push(transid);

    println!("\n== a day later: the window has closed");
    w.clock.advance(Duration::from_hours(25));
    let late = SessionMessage::text("Did the parcel arrive?")?;
    let transid = send(&w.client, &to, late, "text").await?;
    let state = wait_for(&mut w, &transid, |s| s.failure_code().is_some()).await?;
    if state.failure_code().map(DeliveryCode::as_str) != Some("7710") {
        return Err(format!("expected a 7710 failure, got {state}").into());
    }
    println!("   -> outside the 24-hour window only templates are delivered (7710)");
    summary.failed = Some(transid);

    w.sandbox.settled().await;
    let counts = w.receiver.stats();
    summary.receipts = usize::try_from(counts.new_events)
        .unwrap_or(usize::MAX)
        .saturating_sub(summary.inbound);
    println!(
        "\ndone: {} receipts and {} inbound messages received, {} duplicates suppressed",
        summary.receipts, summary.inbound, counts.duplicates
    );
    w.sandbox.shutdown().await;
    w.server.abort();
    Ok(summary)
}

/// Sends one message and prints the transid it was queued under.
async fn send(
    client: &Client,
    to: impl Into<Recipient>,
    content: impl Into<webex_connect_whatsapp::send::Content>,
    what: &str,
) -> Result<TransactionId, BoxError> {
    let receipt = client.send(to, content).await?;
    let transid = receipt
        .transaction_id
        .ok_or("the platform queued the message without a transid")?;
    println!("-> {what:<20} queued as {transid}");
    Ok(transid)
}

/// Waits until the tracker's state for `transid` satisfies `done`.
async fn wait_for(
    w: &mut World,
    transid: &TransactionId,
    done: impl Fn(&DeliveryState) -> bool,
) -> Result<DeliveryState, BoxError> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(state) = w.receiver.tracker().overall(transid).filter(|s| done(s)) {
            return Ok(state);
        }
        match tokio::time::timeout_at(deadline, w.arrivals.recv()).await {
            Ok(Some(_)) => {}
            Ok(None) => return Err("the receiver stopped".into()),
            Err(_) => {
                let state = w.receiver.tracker().overall(transid);
                return Err(format!(
                    "no final receipt for {transid} within {WAIT:?} (state: {state:?})"
                )
                .into());
            }
        }
    }
}

async fn wait_inbound(
    arrivals: &mut mpsc::UnboundedReceiver<WebhookEvent>,
) -> Result<(), BoxError> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, arrivals.recv()).await {
            Ok(Some(WebhookEvent::Inbound(_))) => return Ok(()),
            Ok(Some(_)) => {}
            Ok(None) => return Err("the receiver stopped".into()),
            Err(_) => return Err(format!("no inbound message within {WAIT:?}").into()),
        }
    }
}

/// One readable line per event.
fn print_event(event: &WebhookEvent) {
    match event {
        WebhookEvent::DeliveryReceipt(r) => {
            let transid = r.transaction_id().map_or("?", |t| t.as_str());
            let info = r
                .additional_info()
                .map(|i| format!(": {i}"))
                .unwrap_or_default();
            println!(
                "<- receipt {:<10} {} for {transid}{info}",
                r.status().as_str(),
                r.code(),
            );
        }
        WebhookEvent::Inbound(m) => {
            let username = m
                .username()
                .filter(|u| !u.is_empty())
                .map(|u| format!(" (@{u})"))
                .unwrap_or_default();
            println!(
                "<- inbound from {}{username}: {:?}",
                m.sender_ids().next().map(mask).unwrap_or_default(),
                m.text().unwrap_or("")
            );
        }
        other => println!("<- event {}", other.raw()),
    }
}

/// Whether an environment variable holds more than blanks.
fn is_set(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.trim().is_empty())
}

/// Sends to a real tenant: an optional template, then a text.
async fn run_live() -> Result<(), BoxError> {
    let var = |name: &str| std::env::var(name).map(|v| v.trim().to_owned());
    let mut builder = ClientBuilder::from_env();
    if !is_set(REGION_VAR) && !is_set(BASE_URL_VAR) {
        builder = builder.region(Region::Us);
    }
    let client = builder.build()?;
    let to = PhoneNumber::parse(&var("WEBEX_CONNECT_TO")?)?;
    println!(
        "sending to {} through {}",
        mask(to.waid()),
        client.endpoint().host_str().unwrap_or("?")
    );
    if let Ok(id) = var("WEBEX_CONNECT_TEMPLATE_ID") {
        let template = TemplateMessage::builder(TemplateId::new(id)?).build()?;
        send(&client, &to, template, "template").await?;
    }
    let text = SessionMessage::text("Hello from the webex-connect-whatsapp quickstart")?;
    send(&client, &to, text, "text").await?;
    println!("receipts go to the webhook configured in Webex Connect");
    Ok(())
}
