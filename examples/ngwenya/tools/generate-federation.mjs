#!/usr/bin/env node
// Writes the generated parts of ngwenya-federation from the service tables below:
// apps/<name>/ (one NestJS service each), rust/<name>/ (one std-only crate each)
// and docker-compose-staging.yaml. Hand-written files (root package.json,
// libs/shared, rust/Cargo.toml, Makefile, .env.staging) are left alone.
//
// Usage: node examples/ngwenya/tools/generate-federation.mjs
// Rerun after editing a table, then run `npm install` in ngwenya-federation
// to update package-lock.json, and `cargo generate-lockfile --offline` in
// ngwenya-federation/rust/ if a crate was added.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FEDERATION_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'ngwenya-federation');

// NestJS services and their default ports. 3008 is taken by the Rust auth service.
const NEST_SERVICES = [
  ['gateway', 30000],
  ['malets', 3001],
  ['products', 3002],
  ['ucart', 3003],
  ['nodes', 3004],
  ['orders', 3005],
  ['payments', 3006],
  ['inventory', 3007],
  ['users', 3009],
  ['notifications', 3010],
  ['search', 3011],
  ['reviews', 3012],
  ['shipping', 3013],
  ['catalog', 3014],
  ['pricing', 3015],
  ['media', 3016],
  ['analytics', 3017],
  ['messaging', 3018],
  ['wallet', 3019],
];

const RUST_SERVICES = [
  ['auth', 3008],
  ['uchat', 3020],
  ['intelligence', 3021],
  ['tower', 3022],
];

// Versions written into every service's package.json. Keep them in step with
// the root package-lock.json.
const NEST_VERSION = '^12.6.3';
const REFLECT_METADATA_VERSION = '^0.2.2';
const RXJS_VERSION = '^7.8.2';

function writeFile(relativePath, content) {
  const path = join(FEDERATION_DIR, relativePath);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

function json(value) {
  return JSON.stringify(value, null, 2) + '\n';
}

function writeNestService(name, port) {
  const dir = join('apps', name);

  writeFile(
    join(dir, 'package.json'),
    json({
      name: `@ngwenya/${name}`,
      version: '0.1.0',
      private: true,
      type: 'module',
      scripts: {
        build: 'nest build',
        'start:prod': 'node dist/main.js',
      },
      dependencies: {
        '@nestjs/common': NEST_VERSION,
        '@nestjs/core': NEST_VERSION,
        '@nestjs/platform-express': NEST_VERSION,
        '@ngwenya/shared': '*',
        'reflect-metadata': REFLECT_METADATA_VERSION,
        rxjs: RXJS_VERSION,
      },
    }),
  );

  writeFile(
    join(dir, 'nest-cli.json'),
    json({
      $schema: 'https://json.schemastore.org/nest-cli',
      collection: '@nestjs/schematics',
      sourceRoot: 'src',
      compilerOptions: {
        builder: 'tsc',
        tsConfigPath: 'tsconfig.json',
        deleteOutDir: true,
      },
    }),
  );

  // rootDir is src so that the entry point is dist/main.js, not dist/src/main.js.
  writeFile(
    join(dir, 'tsconfig.json'),
    json({
      extends: '../../tsconfig.base.json',
      compilerOptions: {
        rootDir: './src',
        outDir: './dist',
      },
      include: ['src'],
    }),
  );

  writeFile(
    join(dir, 'src', 'service.config.ts'),
    `/** Service name reported by GET /health and used in log and error messages. */
export const SERVICE_NAME = '${name}';

/** Port used when the PORT environment variable is unset or empty. */
export const DEFAULT_PORT = ${port};
`,
  );

  writeFile(
    join(dir, 'src', 'health.controller.ts'),
    `import { Controller, Get } from '@nestjs/common';
import { healthPayload, type HealthPayload } from '@ngwenya/shared';
import { SERVICE_NAME } from './service.config.js';

@Controller('health')
export class HealthController {
  @Get()
  getHealth(): HealthPayload {
    return healthPayload(SERVICE_NAME);
  }
}
`,
  );

  writeFile(
    join(dir, 'src', 'app.module.ts'),
    `import { Module } from '@nestjs/common';
import { HealthController } from './health.controller.js';

@Module({
  controllers: [HealthController],
})
export class AppModule {}
`,
  );

  writeFile(
    join(dir, 'src', 'main.ts'),
    `import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { serviceHost, servicePort } from '@ngwenya/shared';
import { AppModule } from './app.module.js';
import { DEFAULT_PORT, SERVICE_NAME } from './service.config.js';

async function bootstrap(): Promise<void> {
  const port = servicePort(SERVICE_NAME, DEFAULT_PORT);
  const host = serviceHost();

  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  await app.listen(port, host);

  new Logger('Bootstrap').log(\`\${SERVICE_NAME} listening on \${host}:\${port}\`);
}

await bootstrap();
`,
  );
}

function writeRustService(name, port) {
  const dir = join('rust', name);

  writeFile(
    join(dir, 'Cargo.toml'),
    `[package]
name = "${name}"
version = "0.1.0"
edition.workspace = true
publish = false

[dependencies]
`,
  );

  writeFile(join(dir, 'src', 'main.rs'), rustMain(name, port));
}

function rustMain(name, port) {
  return `//! \`${name}\`: a minimal HTTP/1.1 service that serves \`GET /health\`.
//!
//! Uses only the standard library. Each connection gets its own thread and
//! carries one request, because every response sends \`Connection: close\`.

use std::env;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

const SERVICE_NAME: &str = "${name}";
const DEFAULT_PORT: u16 = ${port};
const DEFAULT_HOST: &str = "0.0.0.0";

/// Maximum time one read from the client may block before the connection is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Maximum size of a request head (request line and headers), in bytes.
const MAX_HEAD_BYTES: u64 = 8 * 1024;

/// Pause after a failed \`accept\`, so that a persistent error such as
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

/// Parses the PORT environment variable. Unset or blank means \`DEFAULT_PORT\`.
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

/// Reads one request head from \`stream\` and writes the response.
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

/// Maps a request line such as \`GET /health HTTP/1.1\` to its response.
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
                format!("{{\\"status\\":\\"ok\\",\\"service\\":\\"{SERVICE_NAME}\\"}}"),
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
    format!("{{\\"error\\":\\"{error}\\",\\"service\\":\\"{SERVICE_NAME}\\"}}")
}

fn write_response(mut stream: TcpStream, response: &Response) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {}\\r\\nContent-Type: application/json\\r\\nContent-Length: {}\\r\\nConnection: close\\r\\n",
        response.status,
        response.body.len()
    );
    if let Some(allow) = response.allow {
        head.push_str(&format!("Allow: {allow}\\r\\n"));
    }
    head.push_str("\\r\\n");

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
        let response = route("GET /health HTTP/1.1\\r\\n");
        assert_eq!(response.status, "200 OK");
        assert!(response.send_body);
        assert_eq!(
            response.body,
            format!("{{\\"status\\":\\"ok\\",\\"service\\":\\"{SERVICE_NAME}\\"}}")
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
`;
}

// Builds docker-compose-staging.yaml. Only the gateway, front, dev and support
// publish ports on the host. Every other service is reached by its service
// name on the compose network.
function composeFile() {
  const lines = [];
  const out = (line = '') => lines.push(line);

  out('# Staging stack for the ngwenya platform.');
  out('# Generated by examples/ngwenya/tools/generate-federation.mjs in the kiln repository;');
  out('# edit the service tables there and rerun it instead of editing this file by hand.');
  out('#');
  out('# This repository does not build the images: `make staging` expects');
  out('# ngwenya/<name>:staging images in the local Docker daemon or a registry it can pull from.');
  out('# POSTGRES_PASSWORD must be set in the environment; .env.staging holds only non-secret values.');
  out('name: ngwenya-staging');
  out();
  out('x-node-service: &node-service');
  out('  restart: unless-stopped');
  out('  env_file: .env.staging');
  out('  depends_on: [postgres, mongo, redis]');
  out('  healthcheck:');
  out(
    `    test: ["CMD", "node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]`,
  );
  out('    interval: 30s');
  out('    timeout: 5s');
  out('    retries: 3');
  out();
  out('x-rust-service: &rust-service');
  out('  restart: unless-stopped');
  out('  env_file: .env.staging');
  out('  # The binaries do not handle SIGTERM, and as PID 1 they would ignore it;');
  out('  # the init process forwards it so `docker compose stop` does not wait for the kill timeout.');
  out('  init: true');
  out();
  out('x-infra-environment: &infra-environment');
  out('  NODE_ENV: production');
  out('  DEV_MODE: "false"');
  out('  HOST: 0.0.0.0');
  out('  POSTGRES_HOST: postgres');
  out('  POSTGRES_PORT: "5432"');
  out('  MONGO_URL: mongodb://mongo:27017/ngwenya');
  out('  REDIS_URL: redis://redis:6379');
  out('  AUTH_URL: http://auth:3008/graphql');
  out();
  out('services:');

  for (const [name, port] of NEST_SERVICES) {
    out(`  ${name}:`);
    out('    <<: *node-service');
    out(`    image: ngwenya/${name}:staging`);
    out('    environment:');
    out('      <<: *infra-environment');
    out(`      PORT: "${port}"`);
    if (name === 'gateway') {
      // The gateway gets the URL of every other service, as a federation gateway would.
      for (const [subgraph, subgraphPort] of [...NEST_SERVICES, ...RUST_SERVICES]) {
        if (subgraph === 'gateway') continue;
        out(`      ${subgraph.toUpperCase()}_URL: http://${subgraph}:${subgraphPort}/graphql`);
      }
      out('    ports:');
      out(`      - "\${GATEWAY_PORT:-${port}}:${port}"`);
      out('    depends_on:');
      for (const [subgraph] of [...NEST_SERVICES, ...RUST_SERVICES]) {
        if (subgraph !== 'gateway') out(`      - ${subgraph}`);
      }
    }
    out();
  }

  for (const [name, port] of RUST_SERVICES) {
    out(`  ${name}:`);
    out('    <<: *rust-service');
    out(`    image: ngwenya/${name}:staging`);
    out('    environment:');
    out('      <<: *infra-environment');
    out(`      PORT: "${port}"`);
    out();
  }

  out('  front:');
  out('    image: ngwenya/front:staging');
  out('    restart: unless-stopped');
  out('    env_file: .env.staging');
  out('    environment:');
  out('      NODE_ENV: production');
  out('      DEV_MODE: "false"');
  out('      HOST: 0.0.0.0');
  out('      PORT: "3000"');
  out('      ORIGIN: ${FRONT_ORIGIN:-http://localhost:3000}');
  out('      GATEWAY_URL: http://gateway:30000/graphql');
  out('    ports:');
  out('      - "${FRONT_PORT:-3000}:3000"');
  out('    depends_on: [gateway]');
  out();
  for (const [name, hostPort] of [
    ['dev', 4001],
    ['support', 4002],
  ]) {
    out(`  ${name}:`);
    out(`    # Static Astro site, served by the image's web server on port 8080.`);
    out(`    image: ngwenya/${name}:staging`);
    out('    restart: unless-stopped');
    out('    ports:');
    out(`      - "\${${name.toUpperCase()}_PORT:-${hostPort}}:8080"`);
    out();
  }

  out('  postgres:');
  out('    image: postgres:16');
  out('    restart: unless-stopped');
  out('    environment:');
  out('      POSTGRES_DB: ${POSTGRES_DB:-ngwenya}');
  out('      POSTGRES_USER: ${POSTGRES_USER:-ngwenya}');
  out('      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in the environment}');
  out('    volumes:');
  out('      - postgres-data:/var/lib/postgresql/data');
  out();
  out('  mongo:');
  out('    image: mongo:7');
  out('    restart: unless-stopped');
  out('    volumes:');
  out('      - mongo-data:/data/db');
  out();
  out('  redis:');
  out('    image: redis:7');
  out('    restart: unless-stopped');
  out();
  out('volumes:');
  out('  postgres-data:');
  out('  mongo-data:');

  return lines.join('\n') + '\n';
}

for (const [name, port] of NEST_SERVICES) writeNestService(name, port);
for (const [name, port] of RUST_SERVICES) writeRustService(name, port);
writeFile('docker-compose-staging.yaml', composeFile());

console.log(
  `wrote ${NEST_SERVICES.length} NestJS services, ${RUST_SERVICES.length} Rust crates and docker-compose-staging.yaml under ${FEDERATION_DIR}`,
);
