/* Clarion surfaces SDK: fetch a surface, render content cards and in-app messages.
 * No dependencies. Usage:
 *   var c = new Clarion({host: "https://clarion.example", writeKey: "wk_...",
 *                        profile: "anonymous_id:abc", identityToken: null});
 *   c.renderCards(document.getElementById("cards"));
 *   c.showInApp();
 */
(function (global) {
  "use strict";

  function Clarion(options) {
    this.host = (options.host || "").replace(/\/$/, "");
    this.writeKey = options.writeKey;
    this.profile = options.profile;
    this.identityToken = options.identityToken || null;
  }

  Clarion.prototype._headers = function () {
    var headers = { Authorization: "Basic " + btoa(this.writeKey + ":") };
    if (this.identityToken) headers["X-Clarion-Identity-Token"] = this.identityToken;
    return headers;
  };

  Clarion.prototype._query = function () {
    return "?profile=" + encodeURIComponent(this.profile);
  };

  Clarion.prototype.fetchSurface = function (surface) {
    var url = this.host + "/v1/surfaces/" + encodeURIComponent(surface) + this._query();
    return fetch(url, { headers: this._headers() }).then(function (response) {
      if (!response.ok) throw new Error("clarion: surface answered " + response.status);
      return response.json();
    }).then(function (body) { return body.items; });
  };

  Clarion.prototype.report = function (itemId, action) {
    var url = this.host + "/v1/surfaces/cards/" + encodeURIComponent(itemId) + "/" + action +
      this._query();
    return fetch(url, { method: "POST", headers: this._headers() }).then(function (response) {
      if (!response.ok) throw new Error("clarion: " + action + " answered " + response.status);
      return response.json();
    });
  };

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  Clarion.prototype.renderCard = function (item) {
    var self = this;
    var content = item.content || {};
    var card = element("div", "clarion-card");
    card.setAttribute("data-clarion-id", item.id);
    if (content.image) {
      var image = element("img", "clarion-card-image");
      image.src = content.image;
      image.alt = "";
      card.appendChild(image);
    }
    card.appendChild(element("h3", "clarion-card-title", content.title));
    if (content.body) card.appendChild(element("p", "clarion-card-body", content.body));
    if (content.link) {
      var link = element("a", "clarion-card-link", "Open");
      link.href = content.link;
      link.addEventListener("click", function () { self.report(item.id, "click"); });
      card.appendChild(link);
    }
    var dismiss = element("button", "clarion-dismiss", "Dismiss");
    dismiss.type = "button";
    dismiss.addEventListener("click", function () {
      self.report(item.id, "dismiss").then(function () {
        if (card.parentNode) card.parentNode.removeChild(card);
      });
    });
    card.appendChild(dismiss);
    return card;
  };

  Clarion.prototype.renderCards = function (container, surface) {
    var self = this;
    return this.fetchSurface(surface || "cards").then(function (items) {
      container.textContent = "";
      items.forEach(function (item) {
        container.appendChild(self.renderCard(item));
        if (!item.read) self.report(item.id, "read");
      });
      return items;
    });
  };

  Clarion.prototype.showInApp = function (surface) {
    var self = this;
    return this.fetchSurface(surface || "in_app").then(function (items) {
      if (!items.length) return null;
      var item = items[0];
      var overlay = element("div", "clarion-in-app");
      overlay.setAttribute("data-clarion-id", item.id);
      var body = element("div", "clarion-in-app-body");
      body.innerHTML = (item.content && item.content.html) || "";
      overlay.appendChild(body);
      var close = element("button", "clarion-dismiss", "Close");
      close.type = "button";
      close.addEventListener("click", function () {
        self.report(item.id, "dismiss");
        if (overlay.parentNode) overlay.parentNode.removeChild(overlay);
      });
      overlay.appendChild(close);
      document.body.appendChild(overlay);
      self.report(item.id, "read");
      return item;
    });
  };

  global.Clarion = Clarion;
})(typeof window !== "undefined" ? window : this);
