//! A support bot against the sandbox: it answers inbound messages inside the 24-hour window
//! and falls back to a template outside it, including when a reply races the window's end.
//!
//! Run with `cargo run --example support_bot`. Offline; exits in a second.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use tokio::sync::mpsc;
use webex_connect_whatsapp::conversation::clock::ManualClock;
use webex_connect_whatsapp::conversation::store::InMemoryWindowStore;
use webex_connect_whatsapp::conversation::window::SessionWindows;
use webex_connect_whatsapp::guard::{EventOutcome, FallbackOutcome, GuardedClient};
use webex_connect_whatsapp::sandbox::{Sandbox, SandboxClock};
use webex_connect_whatsapp::template::{TemplateDefinition, TemplateRegistry};
use webex_connect_whatsapp::webhook;
use webex_connect_whatsapp::{
    PhoneNumber, Recipient, SessionMessage, TemplateCategory, TemplateId, TemplateMessage,
    TemplateName,
};

type Bot = GuardedClient<InMemoryWindowStore, ManualClock>;

/// What the webhook handler tells the main loop the guard did.
type Note = String;

/// The webhook handler: one line to keep windows, opt-outs and fallbacks up to date.
async fn on_webhook(
    State((bot, notes)): State<(Bot, mpsc::UnboundedSender<Note>)>,
    body: Bytes,
) -> StatusCode {
    let Ok(event) = webhook::parse(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    match bot.handle_event(&event).await {
        Ok(outcome) => {
            let note = match outcome {
                EventOutcome::Inbound { window, .. } => format!("inbound; window now {window:?}"),
                EventOutcome::FallbackSent { original, receipt } => format!(
                    "reply {original} failed with 7710, template sent as {:?}",
                    receipt.transaction_id
                ),
                EventOutcome::FallbackFailed { original, error } => {
                    format!("reply {original} failed with 7710, template refused: {error}")
                }
                _ => return StatusCode::OK,
            };
            let _ = notes.send(note);
            StatusCode::OK
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn template() -> Result<TemplateMessage, Box<dyn std::error::Error>> {
    Ok(
        TemplateMessage::builder(TemplateId::new("5139722425xxxxx")?)
            .text("1", "Ana")
            .build()?,
    )
}

/// Answers `to`: a phone number, or the business-scoped user id of a user with a username
/// and no phone number (an inbound message's `reply_to()`); the guard looks the window up
/// under that id.
async fn answer(bot: &Bot, to: &Recipient) -> Result<(), Box<dyn std::error::Error>> {
    let reply = SessionMessage::text("Thanks for writing! An agent will reply shortly.")?;
    match bot.send_with_fallback(to, reply, template()?).await? {
        FallbackOutcome::Session { until, .. } => {
            println!("  -> answered in the window (open until {until})");
        }
        FallbackOutcome::Template { reason, .. } => {
            println!("  -> sent the template: {reason}");
        }
        _ => {}
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let start = time::OffsetDateTime::now_utc().replace_nanosecond(0)?;
    let sandbox_clock = SandboxClock::manual_at(start);
    let sandbox = Sandbox::builder()
        .clock(sandbox_clock.clone())
        .receipt_delays(Duration::ZERO, Duration::ZERO, Duration::ZERO)
        .start()
        .await?;

    // The template the bot falls back to, registered with the app and with the sandbox.
    let mut registry = TemplateRegistry::new();
    let definition = TemplateDefinition::builder(
        TemplateName::new("support_follow_up")?,
        TemplateCategory::Utility,
        "en",
        "Hi {{1}}, we have an answer to your question. Reply to continue.",
    )
    .build()?;
    registry.register(TemplateId::new("5139722425xxxxx")?, definition)?;
    for t in registry.iter() {
        sandbox.register_template(t.id().as_str(), t.parameter_keys());
    }

    let client = sandbox.client_builder().build()?;
    let clock = ManualClock::new(start);
    let windows = SessionWindows::with_clock(InMemoryWindowStore::new(10_000), clock.clone());
    let bot: Bot = GuardedClient::builder(client, windows)
        .registry(registry)
        .build();

    // The app's webhook receiver, where the sandbox posts receipts and inbound messages.
    let (notes_tx, mut notes) = mpsc::unbounded_channel::<Note>();
    let app = axum::Router::new()
        .route("/webhook", post(on_webhook))
        .with_state((bot.clone(), notes_tx));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let hook = url::Url::parse(&format!("http://{}/webhook", listener.local_addr()?))?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    sandbox.set_delivery_url(Some(hook.clone()));
    sandbox.set_inbound_url(Some(hook));

    let phone = PhoneNumber::parse("+447400123456")?;
    let waid = phone.waid().to_owned();
    let customer = Recipient::from(phone);

    println!("1. The customer writes; the bot answers inside the window.");
    sandbox
        .inbound_text(&waid, "Hi, where is my order?")
        .await?;
    while let Ok(note) = notes.try_recv() {
        println!("  webhook: {note}");
    }
    answer(&bot, &customer).await?;
    sandbox.settled().await;

    println!("2. A day later the window is closed; the bot sends the template.");
    sandbox_clock.advance(Duration::from_hours(24));
    clock.advance(std::time::Duration::from_hours(24));
    answer(&bot, &customer).await?;
    sandbox.settled().await;

    println!("3. The customer writes again; the reply races the window's end.");
    sandbox.inbound_text(&waid, "Any news?").await?;
    // The bot's clock runs one second behind the platform's: it still sees the window open.
    clock.advance(std::time::Duration::from_secs(24 * 3600 - 1));
    sandbox_clock.advance(Duration::from_hours(24));
    answer(&bot, &customer).await?;
    sandbox.settled().await;
    while let Ok(note) = notes.try_recv() {
        println!("  webhook: {note}");
    }

    let sent: Vec<String> = sandbox
        .messages()
        .iter()
        .map(|m| format!("{} {:?}", m.kind, m.fate))
        .collect();
    println!("Messages the platform saw: {sent:?}");
    sandbox.shutdown().await;
    Ok(())
}
