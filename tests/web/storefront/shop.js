// The test shop's tracking: analytics.js (@segment/analytics-next, the UMD bundle from npm) pointed at shopseg.
// `window.SHOP` (/config.js) gives the write key and the collection host; the settings are given here, so
// analytics.js fetches nothing from Segment's CDN. The load call is the one docs/collection.md shows.
"use strict";

const CATALOG = {
  "sku-1": { name: "Trail shoe", category: "Shoes", brand: "Fjell", price: 89.5 },
};

const { writeKey, apiHost, protocol, metricsFlushMs } = window.SHOP;
// (metrics.flushTimer: analytics.js posts its own usage counters to <apiHost>/m; every 30 s by default)
const analytics = AnalyticsNext.AnalyticsBrowser.load(
  {
    writeKey,
    cdnSettings: {
      integrations: { "Segment.io": { apiKey: writeKey, apiHost, protocol } },
      metrics: { flushTimer: metricsFlushMs },
    },
  },
  { integrations: { "Segment.io": { apiHost, protocol } } },
);

// Every call is listed on the page (#sent) once analytics.js has sent it (acknowledged, or queued for a retry),
// so a test can wait for it before moving on.
async function send(label, call) {
  const ctx = await call;
  const failed = ctx.failedDelivery();
  const item = document.createElement("li");
  item.textContent = `${label}: ${failed ? "failed " + failed.reason : "sent"}`;
  document.getElementById("sent").append(item);
  return ctx;
}

function cart() {
  return JSON.parse(localStorage.getItem("cart") || "[]");
}
