//! E-mail through SMTP with `lettre`: plain (a local relay), STARTTLS, or TLS from the start.

use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{chain, Outgoing};
use crate::config::alerts::{EmailChannel, SmtpSecurity};

pub async fn send(
    c: &EmailChannel,
    m: &Outgoing,
    roots: &[Vec<u8>],
    timeout: Duration,
) -> Result<(), String> {
    let target = c.target().map_err(|e| format!("smtp_url: {e}"))?;
    let from: Mailbox = c.from.parse().map_err(|e| format!("from: {e}"))?;
    let mut builder = Message::builder()
        .from(from)
        .subject(&m.title)
        .header(ContentType::TEXT_PLAIN);
    for to in &c.to {
        builder = builder.to(to.parse().map_err(|e| format!("to {to:?}: {e}"))?);
    }
    let mut body = m.body.clone();
    if !m.miner.is_empty() {
        body.push_str(&format!("\n\nMiner: {}", m.miner));
    }
    body.push_str(&format!(
        "\nAt: {}\n\n-- \nBitaxe Fleet Scheduler\n",
        m.at.format("%Y-%m-%d %H:%M:%S UTC")
    ));
    let email = builder.body(body).map_err(|e| format!("message: {e}"))?;

    let tls = || -> Result<TlsParameters, String> {
        let mut params = TlsParameters::builder(target.host.clone());
        for pem in roots {
            params = params.add_root_certificate(
                Certificate::from_pem(pem).map_err(|e| format!("certificate: {e}"))?,
            );
        }
        params.build_rustls().map_err(|e| format!("TLS: {e}"))
    };
    let mut transport =
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(target.host.as_str())
            .port(target.port)
            .timeout(Some(timeout));
    transport = match target.security {
        SmtpSecurity::Plain => transport.tls(Tls::None),
        SmtpSecurity::StartTls => transport.tls(Tls::Required(tls()?)),
        SmtpSecurity::Tls => transport.tls(Tls::Wrapper(tls()?)),
    };
    if let Some(user) = c.username.as_deref().filter(|u| !u.is_empty()) {
        let pass = c
            .password
            .as_ref()
            .map(|p| p.expose().to_string())
            .unwrap_or_default();
        transport = transport.credentials(Credentials::new(user.to_string(), pass));
    }
    transport
        .build()
        .send(email)
        .await
        .map(drop)
        .map_err(|e| chain(&e))
}
