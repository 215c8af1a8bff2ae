//! E-mail through SMTP with lettre: STARTTLS (required, not opportunistic),
//! TLS from the start, or none (a local relay or a test sink only), with
//! a text part (the Markdown) and an HTML part. The Message-ID is derived
//! from the delivery's idempotency key, so a mail client shows a repeat as
//! the same message.

use lettre::message::{Mailbox, MultiPart, header};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use steward_domain::delivery::html::to_html;
use steward_domain::delivery::{AttemptFailure, Sent, excerpt};

use super::config::{SmtpConfig, SmtpTls};
use super::content::Content;

pub(super) struct Mailer<'a> {
    pub config: &'a SmtpConfig,
    pub password: Option<&'a str>,
    pub timeout: std::time::Duration,
}

impl Mailer<'_> {
    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, AttemptFailure> {
        let host = self.config.host.as_str();
        let builder = match self.config.tls {
            SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host),
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host),
            SmtpTls::None => Ok(AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)),
        }
        .map_err(|error| AttemptFailure::permanent(format!("deliveries.smtp: {error}")))?;
        let mut builder = builder.port(self.config.port).timeout(Some(self.timeout));
        if !self.config.username.is_empty() {
            let Some(password) = self.password else {
                return Err(AttemptFailure::permanent(format!(
                    "the SMTP password is not set (environment variable {})",
                    self.config.password_env
                )));
            };
            builder = builder.credentials(Credentials::new(self.config.username.clone(), password.to_string()));
        }
        Ok(builder.build())
    }

    pub async fn send(&self, to: &str, content: &Content, key: &str) -> Result<Sent, AttemptFailure> {
        let from: Mailbox = self
            .config
            .from
            .parse()
            .map_err(|error| AttemptFailure::permanent(format!("deliveries.smtp.from: {error}")))?;
        let to: Mailbox = to.parse().map_err(|error| AttemptFailure::permanent(format!("mailto:{to}: {error}")))?;
        let id: String = key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '.' }).collect();
        let domain = from.email.domain().to_string();
        let text = format!("{}\n\n-- \n{}\n", content.markdown, content.footer_line());
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(content.subject())
            .message_id(Some(format!("<{id}@{domain}>")))
            .header(header::MIME_VERSION_1_0)
            .multipart(MultiPart::alternative_plain_html(text, to_html(&content.markdown, &content.footer_line())))
            .map_err(|error| AttemptFailure::permanent(format!("the e-mail could not be built: {error}")))?;
        let response = self.transport()?.send(message).await.map_err(|error| {
            let reason = format!("smtp {}:{}: {error}", self.config.host, self.config.port);
            if error.is_permanent() { AttemptFailure::permanent(reason) } else { AttemptFailure::transient(reason) }
        })?;
        let answer = format!("{} {}", response.code(), response.message().collect::<Vec<_>>().join(" "));
        Ok(Sent { http_status: None, response_excerpt: Some(excerpt(&answer)), external_id: None })
    }
}
