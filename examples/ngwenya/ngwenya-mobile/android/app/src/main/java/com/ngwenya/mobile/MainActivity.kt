package com.ngwenya.mobile

import android.app.Activity
import android.os.Bundle
import android.util.Log
import android.widget.TextView
import java.net.HttpURLConnection
import java.net.URL
import kotlin.concurrent.thread

/** Shows the gateway URL of the build flavor and the result of one `GET /health` request. */
class MainActivity : Activity() {

    private lateinit var statusView: TextView

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        statusView = TextView(this).apply {
            setPadding(48, 48, 48, 48)
            text = getString(R.string.app_name) + "\nGateway: " + BuildConfig.GATEWAY_URL
        }
        setContentView(statusView)
        checkGatewayHealth()
    }

    /** Requests `GATEWAY_URL/health` off the main thread and appends the outcome to the screen. */
    private fun checkGatewayHealth() {
        thread(name = "gateway-health") {
            val outcome = try {
                val connection = URL(BuildConfig.GATEWAY_URL + "/health").openConnection() as HttpURLConnection
                connection.connectTimeout = HEALTH_TIMEOUT_MS
                connection.readTimeout = HEALTH_TIMEOUT_MS
                try {
                    "HTTP ${connection.responseCode}"
                } finally {
                    connection.disconnect()
                }
            } catch (e: java.io.IOException) {
                Log.w(TAG, "Health check of ${BuildConfig.GATEWAY_URL} failed", e)
                "unreachable (${e.javaClass.simpleName})"
            }
            runOnUiThread { statusView.append("\nHealth: $outcome") }
        }
    }

    private companion object {
        const val TAG = "MainActivity"
        const val HEALTH_TIMEOUT_MS = 5_000
    }
}
