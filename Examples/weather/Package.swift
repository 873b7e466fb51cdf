// swift-tools-version:6.0
// An app outside Switchboard that uses its Swift SDK the way any package would: by depending
// on the Switchboard package (here by path; by URL elsewhere) and its SwitchboardKit product.
import PackageDescription

let package = Package(
    name: "WeatherExample",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Switchboard", path: "../..")],
    targets: [
        .executableTarget(name: "WeatherExample", dependencies: [.product(name: "SwitchboardKit", package: "Switchboard")]),
        // The README's SwitchboardKit example, word for word (SwitchboardKitTests checks that), so it is compiled.
        .executableTarget(name: "ReadmeExample", dependencies: [.product(name: "SwitchboardKit", package: "Switchboard")]),
    ]
)
