//! Quickstart (interim): send a template and a session text through the in-process sandbox.
//!
//! ```sh
//! cargo run --example quickstart --features sandbox
//! ```
use webex_connect_whatsapp::client::Client;
use webex_connect_whatsapp::sandbox::Sandbox;
use webex_connect_whatsapp::{PhoneNumber, SessionMessage, TemplateId, TemplateMessage};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = Sandbox::start().await?;
    sandbox.register_template("order_update_1", ["name"]);
    let client = Client::builder()
        .service_key(sandbox.service_key())
        .app_id(sandbox.app_id())
        .base_url(sandbox.base_url())
        .build()?;
    let to = PhoneNumber::parse("+44 7400 123456")?;

    let template = TemplateMessage::builder(TemplateId::new("order_update_1")?)
        .text("name", "Ada")
        .build()?;
    let receipt = client.send(&to, template).await?;
    println!("template queued: transid {:?}", receipt.transid);

    sandbox
        .inbound_text(to.waid(), "Hi, where is my order?")
        .await?;
    let receipt = client
        .send(&to, SessionMessage::text("It ships today.")?)
        .await?;
    println!("text queued: transid {:?}", receipt.transid);

    sandbox.settled().await;
    for message in sandbox.messages() {
        println!("{} {} -> {:?}", message.kind, message.transid, message.fate);
    }
    Ok(())
}
