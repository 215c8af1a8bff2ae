//! An SMTP sink: enough of RFC 5321 for a client to hand over mail
//! (EHLO/HELO, MAIL, RCPT, DATA with dot-stuffing, RSET, NOOP, QUIT), on a
//! real socket. It can be stopped and started again on the same port, so a
//! test sees a server that is down and then up.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// A mail as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    /// Headers and body as sent (dot-stuffing undone).
    pub data: String,
}

pub struct SmtpSink {
    address: SocketAddr,
    mails: Arc<Mutex<Vec<ReceivedMail>>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

impl SmtpSink {
    /// Listens on a free loopback port.
    pub async fn start() -> std::io::Result<SmtpSink> {
        let mut sink = SmtpSink { address: ([127, 0, 0, 1], 0).into(), mails: Arc::default(), task: None };
        sink.up().await?;
        Ok(sink)
    }

    /// A port with nothing listening yet (for a sink started later with [`SmtpSink::up`]).
    pub fn down_on_free_port() -> std::io::Result<SmtpSink> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        Ok(SmtpSink { address: ([127, 0, 0, 1], port).into(), mails: Arc::default(), task: None })
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Starts listening (again, on the same port once it had one).
    pub async fn up(&mut self) -> std::io::Result<()> {
        let listener = TcpListener::bind(self.address).await?;
        self.address = listener.local_addr()?;
        let mails = Arc::clone(&self.mails);
        self.task = Some(tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(session(stream, Arc::clone(&mails)));
            }
        }));
        Ok(())
    }

    /// Stops listening: connections are refused until [`SmtpSink::up`].
    pub fn down(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }

    pub fn mails(&self) -> Vec<ReceivedMail> {
        self.mails.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

async fn session(stream: TcpStream, mails: Arc<Mutex<Vec<ReceivedMail>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    write.write_all(b"220 sink.localhost ESMTP ready\r\n").await?;
    let mut from = String::new();
    let mut to = Vec::new();
    while let Some(line) = lines.next_line().await? {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.localhost\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if upper.starts_with("HELO") || upper.starts_with("NOOP") {
            b"250 OK\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = line[10..].trim().trim_matches(['<', '>']).split_whitespace().next().unwrap_or_default().to_string();
            to.clear();
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO:") {
            to.push(line[8..].trim().trim_matches(['<', '>']).to_string());
            b"250 OK\r\n"
        } else if upper.starts_with("RSET") {
            from.clear();
            to.clear();
            b"250 OK\r\n"
        } else if upper == "DATA" {
            write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
            let mut data = String::new();
            while let Some(line) = lines.next_line().await? {
                if line == "." {
                    break;
                }
                data.push_str(line.strip_prefix('.').unwrap_or(&line));
                data.push_str("\r\n");
            }
            let mail = ReceivedMail { from: from.clone(), to: std::mem::take(&mut to), data };
            mails.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(mail);
            b"250 OK queued\r\n"
        } else if upper.starts_with("QUIT") {
            write.write_all(b"221 Bye\r\n").await?;
            return Ok(());
        } else {
            b"502 Command not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
    Ok(())
}
