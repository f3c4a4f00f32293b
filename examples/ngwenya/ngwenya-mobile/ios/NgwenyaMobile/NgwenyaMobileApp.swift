import SwiftUI

@main
struct NgwenyaMobileApp: App {
    var body: some Scene {
        WindowGroup {
            ContentView()
        }
    }
}
