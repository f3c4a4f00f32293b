import SwiftUI

/// Shows the gateway base URL of the active build configuration and its health status.
struct ContentView: View {
    @StateObject private var gateway = GatewayViewModel()

    var body: some View {
        VStack(alignment: .leading, spacing: 12) {
            Text("Ngwenya").font(.largeTitle)
            Text("Gateway: \(GatewayViewModel.baseURL.absoluteString)")
            Text("Health: \(gateway.status)")
            Button("Check again") {
                Task { await gateway.refreshHealth() }
            }
        }
        .padding()
        .task { await gateway.refreshHealth() }
    }
}
