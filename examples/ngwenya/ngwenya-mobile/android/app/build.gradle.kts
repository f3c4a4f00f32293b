plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "com.ngwenya.mobile"
    compileSdk = 35

    defaultConfig {
        applicationId = "com.ngwenya.mobile"
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
    }

    buildFeatures {
        buildConfig = true
    }

    flavorDimensions += "env"
    productFlavors {
        create("staging") {
            dimension = "env"
            applicationIdSuffix = ".staging"
            versionNameSuffix = "-staging"
            // 10.0.2.2 is the Android emulator's alias for the host's loopback interface,
            // where the staging stack publishes the gateway on port 30000.
            buildConfigField("String", "GATEWAY_URL", "\"http://10.0.2.2:30000\"")
            // The staging gateway is plain HTTP, which Android blocks unless cleartext is allowed.
            manifestPlaceholders["usesCleartextTraffic"] = "true"
        }
        create("production") {
            dimension = "env"
            buildConfigField("String", "GATEWAY_URL", "\"https://gateway.ngwenya.example\"")
            manifestPlaceholders["usesCleartextTraffic"] = "false"
        }
    }

    buildTypes {
        release {
            isMinifyEnabled = false
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    kotlinOptions {
        jvmTarget = "17"
    }
}
