//! Just enough HTTP/1.1 over `std::net` for the demo: one request per connection, no TLS, no
//! chunking, bounded sizes. The library itself has no HTTP code; real services use their own
//! framework (see the integrations).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

const MAX_HEAD: usize = 32 * 1024;
const MAX_BODY: usize = 64 * 1024;

/// A request or response head plus body.
#[derive(Debug, Default)]
pub struct Message {
    /// `GET /path` for requests, `401` for responses.
    pub start: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Message {
    /// Every value of header `name` (case-insensitive).
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_values(name).into_iter().next()
    }

    /// The status code of a response.
    pub fn status(&self) -> u16 {
        self.start.parse().unwrap_or(0)
    }
}

/// A response to send.
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn json(status: u16, body: String) -> Self {
        Self {
            status,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                ("Cache-Control".into(), "no-store".into()),
            ],
            body,
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Handler = Arc<dyn Fn(&Message) -> Response + Send + Sync>;

/// Serves `handler` on 127.0.0.1 at an ephemeral port, in background threads.
pub fn serve(handler: Handler) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let handler = handler.clone();
            thread::spawn(move || {
                let _ = handle(stream, &handler);
            });
        }
    });
    Ok(addr)
}

fn handle(mut stream: TcpStream, handler: &Handler) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let request = read_message(&mut stream)?;
    let response = handler(&request);
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason(response.status)
    );
    for (name, value) in &response.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        response.body.len()
    ));
    out.push_str(&response.body);
    stream.write_all(out.as_bytes())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        _ => "Status",
    }
}

/// Reads one message: start line, headers, and a `Content-Length` body.
fn read_message(stream: &mut TcpStream) -> std::io::Result<Message> {
    let mut reader = BufReader::new(stream);
    let mut message = Message::default();
    let mut head = 0;
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line)?;
        head += n;
        if n == 0 || head > MAX_HEAD {
            return Err(std::io::Error::other("bad head"));
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        if message.start.is_empty() {
            message.start = line.to_owned();
        } else if let Some((name, value)) = line.split_once(':') {
            message
                .headers
                .push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let length: usize = message
        .header("Content-Length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if length > MAX_BODY {
        return Err(std::io::Error::other("body too large"));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    message.body = String::from_utf8_lossy(&body).into_owned();
    Ok(message)
}

/// Sends one request and returns the response (start = the status code).
pub fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<Message> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut out = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    stream.write_all(out.as_bytes())?;
    let mut response = read_message(&mut stream)?;
    // "HTTP/1.1 401 Unauthorized" → "401".
    response.start = response.start.split(' ').nth(1).unwrap_or("").to_owned();
    Ok(response)
}
