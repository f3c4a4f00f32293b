// Plugin versions for every module. Android Gradle Plugin 8.7 requires Gradle 8.9 or later
// (the wrapper properties pin 8.11.1).
plugins {
    id("com.android.application") version "8.7.3" apply false
    id("org.jetbrains.kotlin.android") version "2.1.0" apply false
}
