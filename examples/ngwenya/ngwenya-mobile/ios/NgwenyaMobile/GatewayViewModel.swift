import Foundation

/// Body of the gateway's `GET /health` response.
struct HealthPayload: Decodable {
    let status: String
    let service: String
}

/// Fetches the gateway's health status for display.
@MainActor
final class GatewayViewModel: ObservableObject {
    #if STAGING
    /// Staging stack on the developer's machine. The iOS simulator shares the host's
    /// network, so localhost reaches the gateway that docker compose publishes on port 30000.
    static let baseURL = URL(string: "http://localhost:30000")!
    #else
    static let baseURL = URL(string: "https://gateway.ngwenya.example")!
    #endif

    /// Last health status: the payload's `status`, or why the request failed.
    @Published private(set) var status = "not checked"

    func refreshHealth() async {
        let url = Self.baseURL.appendingPathComponent("health")
        do {
            let (data, response) = try await URLSession.shared.data(from: url)
            guard let http = response as? HTTPURLResponse else {
                status = "unavailable: response is not HTTP"
                return
            }
            guard http.statusCode == 200 else {
                status = "unavailable: HTTP \(http.statusCode) from \(url.absoluteString)"
                return
            }
            status = try JSONDecoder().decode(HealthPayload.self, from: data).status
        } catch {
            status = "unavailable: \(error.localizedDescription)"
        }
    }
}
