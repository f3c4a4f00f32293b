#include "tests/oci/fake_registry.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace kiln::oci::test {

namespace {

std::string lower(std::string text) {
  for (char& c : text) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

}  // namespace

FakeServer::FakeServer(Handler handler) : handler_(std::move(handler)) {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listener_ < 0 ||
      ::bind(listener_, reinterpret_cast<sockaddr*>(&address),
             sizeof address) != 0 ||
      ::listen(listener_, 16) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address),
                    &length) != 0) {
    throw std::runtime_error("the fake server cannot listen on 127.0.0.1");
  }
  port_ = ntohs(address.sin_port);
  thread_ = std::thread([this] { serve(); });
}

FakeServer::~FakeServer() {
  stopping_ = true;
  thread_.join();
  ::close(listener_);
}

std::vector<FakeRequest> FakeServer::requests() {
  std::lock_guard lock(mutex_);
  return requests_;
}

void FakeServer::serve() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!stopping_ && std::chrono::steady_clock::now() < deadline) {
    pollfd waiting{listener_, POLLIN, 0};
    if (::poll(&waiting, 1, 100) <= 0) {
      continue;
    }
    int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection >= 0) {
      handle(connection);
      ::close(connection);
    }
  }
}

void FakeServer::handle(int connection) {
  std::string data;
  char buffer[8192];
  std::size_t headerEnd = std::string::npos;
  while (headerEnd == std::string::npos) {
    ssize_t count = ::recv(connection, buffer, sizeof buffer, 0);
    if (count <= 0) {
      return;
    }
    data.append(buffer, static_cast<std::size_t>(count));
    headerEnd = data.find("\r\n\r\n");
  }
  FakeRequest request;
  std::size_t lineEnd = data.find("\r\n");
  std::string line = data.substr(0, lineEnd);
  std::size_t space1 = line.find(' ');
  std::size_t space2 = line.find(' ', space1 + 1);
  request.method = line.substr(0, space1);
  request.target = line.substr(space1 + 1, space2 - space1 - 1);
  std::size_t pos = lineEnd + 2;
  while (pos < headerEnd) {
    std::size_t end = data.find("\r\n", pos);
    std::string header = data.substr(pos, end - pos);
    std::size_t colon = header.find(':');
    if (colon != std::string::npos) {
      std::size_t start = header.find_first_not_of(' ', colon + 1);
      request.headers[lower(header.substr(0, colon))] =
          start == std::string::npos ? "" : header.substr(start);
    }
    pos = end + 2;
  }
  std::size_t length = request.headers.count("content-length")
                           ? std::stoul(request.headers["content-length"])
                           : 0;
  request.body = data.substr(headerEnd + 4);
  while (request.body.size() < length) {
    ssize_t count = ::recv(connection, buffer, sizeof buffer, 0);
    if (count <= 0) {
      break;
    }
    request.body.append(buffer, static_cast<std::size_t>(count));
  }

  FakeResponse response = handler_(request);
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
  }
  std::string text = "HTTP/1.1 " + std::to_string(response.status) + " " +
                     reason(response.status) + "\r\n";
  response.headers["Content-Length"] = std::to_string(response.body.size());
  response.headers["Connection"] = "close";
  for (const auto& [name, value] : response.headers) {
    text += name + ": " + value + "\r\n";
  }
  text += "\r\n";
  if (request.method != "HEAD") {
    text += response.body;
  }
  std::size_t sent = 0;
  while (sent < text.size()) {
    ssize_t count = ::send(connection, text.data() + sent, text.size() - sent,
                           MSG_NOSIGNAL);
    if (count <= 0) {
      return;
    }
    sent += static_cast<std::size_t>(count);
  }
}

}  // namespace kiln::oci::test
