//! `auth`: a minimal HTTP/1.1 service that serves `GET /health`.
//!
//! Uses only the standard library. Each connection gets its own thread and
//! carries one request, because every response sends `Connection: close`.

use std::env;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

const SERVICE_NAME: &str = "auth";
const DEFAULT_PORT: u16 = 3008;
const DEFAULT_HOST: &str = "0.0.0.0";

/// Maximum time one read from the client may block before the connection is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Maximum size of a request head (request line and headers), in bytes.
const MAX_HEAD_BYTES: u64 = 8 * 1024;

/// Pause after a failed `accept`, so that a persistent error such as
/// running out of file descriptors does not spin the accept loop.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_millis(100);

fn main() -> ExitCode {
    let port = match parse_port(env::var("PORT").ok().as_deref()) {
        Ok(port) => port,
        Err(message) => {
            eprintln!("{SERVICE_NAME}: {message}");
            return ExitCode::FAILURE;
        }
    };
    let host = env::var("HOST")
        .ok()
        .filter(|host| !host.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_HOST.to_string());

    let listener = match TcpListener::bind((host.as_str(), port)) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("{SERVICE_NAME}: failed to listen on {host}:{port}: {err}");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(addr) => eprintln!("{SERVICE_NAME}: listening on http://{addr}"),
        Err(_) => eprintln!("{SERVICE_NAME}: listening on {host}:{port}"),
    }

    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                thread::spawn(move || {
                    if let Err(err) = handle_connection(stream) {
                        eprintln!("{SERVICE_NAME}: connection failed: {err}");
                    }
                });
            }
            Err(err) => {
                eprintln!("{SERVICE_NAME}: accept failed: {err}");
                thread::sleep(ACCEPT_RETRY_DELAY);
            }
        }
    }
    ExitCode::SUCCESS
}

/// Parses the PORT environment variable. Unset or blank means `DEFAULT_PORT`.
fn parse_port(raw: Option<&str>) -> Result<u16, String> {
    let raw = match raw.map(str::trim) {
        None | Some("") => return Ok(DEFAULT_PORT),
        Some(raw) => raw,
    };
    match raw.parse::<u16>() {
        Ok(port) if port != 0 => Ok(port),
        _ => Err(format!(
            "invalid PORT {raw:?}: expected an integer from 1 to 65535"
        )),
    }
}

/// Reads one request head from `stream` and writes the response.
fn handle_connection(stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    let mut head = BufReader::new(stream.try_clone()?).take(MAX_HEAD_BYTES);

    let mut request_line = String::new();
    if head.read_line(&mut request_line)? == 0 {
        return Ok(()); // The client closed the connection without sending anything.
    }
    // Skip the headers, because no route depends on them. Request bodies are never read.
    let mut header = String::new();
    loop {
        header.clear();
        if head.read_line(&mut header)? == 0 || header.trim_end().is_empty() {
            break;
        }
    }

    let response = route(&request_line);
    write_response(stream, &response)
}

struct Response {
    status: &'static str,
    body: String,
    /// Whether to send the body. False for HEAD requests.
    send_body: bool,
    allow: Option<&'static str>,
}

/// Maps a request line such as `GET /health HTTP/1.1` to its response.
fn route(request_line: &str) -> Response {
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return json_response("400 Bad Request", error_body("bad request"));
    };
    let path = target.split('?').next().unwrap_or(target);

    if path != "/health" {
        return json_response("404 Not Found", error_body("not found"));
    }
    match method {
        "GET" | "HEAD" => Response {
            send_body: method == "GET",
            ..json_response(
                "200 OK",
                format!("{{\"status\":\"ok\",\"service\":\"{SERVICE_NAME}\"}}"),
            )
        },
        _ => Response {
            allow: Some("GET, HEAD"),
            ..json_response("405 Method Not Allowed", error_body("method not allowed"))
        },
    }
}

fn json_response(status: &'static str, body: String) -> Response {
    Response {
        status,
        body,
        send_body: true,
        allow: None,
    }
}

fn error_body(error: &str) -> String {
    format!("{{\"error\":\"{error}\",\"service\":\"{SERVICE_NAME}\"}}")
}

fn write_response(mut stream: TcpStream, response: &Response) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        response.status,
        response.body.len()
    );
    if let Some(allow) = response.allow {
        head.push_str(&format!("Allow: {allow}\r\n"));
    }
    head.push_str("\r\n");

    stream.write_all(head.as_bytes())?;
    if response.send_body {
        stream.write_all(response.body.as_bytes())?;
    }
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_defaults_when_unset_or_blank() {
        assert_eq!(parse_port(None), Ok(DEFAULT_PORT));
        assert_eq!(parse_port(Some("")), Ok(DEFAULT_PORT));
        assert_eq!(parse_port(Some("  ")), Ok(DEFAULT_PORT));
    }

    #[test]
    fn port_parses_valid_value() {
        assert_eq!(parse_port(Some("8080")), Ok(8080));
        assert_eq!(parse_port(Some(" 65535 ")), Ok(65535));
    }

    #[test]
    fn port_rejects_invalid_values() {
        assert!(parse_port(Some("0")).is_err());
        assert!(parse_port(Some("65536")).is_err());
        assert!(parse_port(Some("http")).is_err());
        assert!(parse_port(Some("-1")).is_err());
    }

    #[test]
    fn health_get_returns_ok_json() {
        let response = route("GET /health HTTP/1.1\r\n");
        assert_eq!(response.status, "200 OK");
        assert!(response.send_body);
        assert_eq!(
            response.body,
            format!("{{\"status\":\"ok\",\"service\":\"{SERVICE_NAME}\"}}")
        );
    }

    #[test]
    fn health_ignores_query_string() {
        assert_eq!(route("GET /health?probe=1 HTTP/1.1").status, "200 OK");
    }

    #[test]
    fn health_head_omits_body() {
        let response = route("HEAD /health HTTP/1.1");
        assert_eq!(response.status, "200 OK");
        assert!(!response.send_body);
    }

    #[test]
    fn health_post_is_method_not_allowed() {
        let response = route("POST /health HTTP/1.1");
        assert_eq!(response.status, "405 Method Not Allowed");
        assert_eq!(response.allow, Some("GET, HEAD"));
    }

    #[test]
    fn unknown_path_is_not_found() {
        assert_eq!(route("GET /graphql HTTP/1.1").status, "404 Not Found");
        assert_eq!(route("GET / HTTP/1.1").status, "404 Not Found");
    }

    #[test]
    fn malformed_request_line_is_bad_request() {
        assert_eq!(route("GARBAGE").status, "400 Bad Request");
    }
}
