// Lays out the OpenAPI document of this server: operations grouped by tag,
// each with its parameters, request body and responses, then the schemas.
// Text is only ever set with textContent, never parsed as HTML.
"use strict";

const METHODS = ["get", "post", "put", "patch", "delete"];

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function json(value) {
  return element("pre", {}, JSON.stringify(value, null, 2));
}

// The schema a `$ref` names, one level deep, so a body shows its fields.
function resolve(api, schema) {
  const reference = schema && schema.$ref;
  if (!reference || !reference.startsWith("#/components/schemas/")) return schema;
  const name = reference.slice("#/components/schemas/".length);
  return Object.assign({ title: name }, api.components.schemas[name]);
}

function parameters(list) {
  if (!list || list.length === 0) return null;
  const rows = list.map((parameter) =>
    element("tr", {},
      element("td", {}, parameter.name),
      element("td", {}, parameter.in),
      element("td", {}, parameter.required ? "required" : "optional"),
      element("td", {}, parameter.description || "")));
  return element("table", {},
    element("tr", {}, element("th", {}, "parameter"), element("th", {}, "in"), element("th", {}, ""), element("th", {}, "meaning")),
    ...rows);
}

function content(api, body) {
  const parts = [];
  for (const [type, media] of Object.entries((body && body.content) || {})) {
    parts.push(element("p", {}, type));
    if (media.schema) parts.push(json(resolve(api, media.schema)));
  }
  return parts;
}

function operation(api, method, path, spec) {
  const body = element("div", {});
  if (spec.description) body.append(element("p", { class: "description" }, spec.description));
  const table = parameters(spec.parameters);
  if (table) body.append(element("h4", {}, "Parameters"), table);
  if (spec.requestBody) {
    body.append(element("h4", {}, spec.requestBody.required ? "Request body (required)" : "Request body"));
    body.append(...content(api, spec.requestBody));
  }
  body.append(element("h4", {}, "Responses"));
  for (const [status, response] of Object.entries(spec.responses || {})) {
    body.append(element("p", {}, element("strong", {}, status), " " + (response.description || "")));
    body.append(...content(api, response));
  }
  const details = element("details", { class: "operation" },
    element("summary", {},
      element("span", { class: "method" }, method),
      element("span", { class: "path" }, path),
      element("span", { class: "summary" }, spec.summary || "")),
    body);
  details.dataset.search = [method, path, spec.summary || "", (spec.tags || []).join(" ")].join(" ").toLowerCase();
  return details;
}

function render(api) {
  const root = window.document.getElementById("reference");
  root.replaceChildren();
  const info = api.info || {};
  root.append(element("p", {}, `${info.title || "API"} ${info.version || ""}`));
  if (info.description) root.append(element("p", { class: "description" }, info.description));

  const byTag = new Map((api.tags || []).map((tag) => [tag.name, []]));
  for (const [path, item] of Object.entries(api.paths || {})) {
    for (const method of METHODS) {
      if (!item[method]) continue;
      const tag = (item[method].tags || ["other"])[0];
      if (!byTag.has(tag)) byTag.set(tag, []);
      byTag.get(tag).push(operation(api, method, path, item[method]));
    }
  }
  const descriptions = new Map((api.tags || []).map((tag) => [tag.name, tag.description || ""]));
  for (const [tag, operations] of byTag) {
    if (operations.length === 0) continue;
    const section = element("section", { class: "tag" }, element("h2", {}, tag));
    if (descriptions.get(tag)) section.append(element("p", {}, descriptions.get(tag)));
    section.append(...operations);
    root.append(section);
  }

  const schemas = (api.components && api.components.schemas) || {};
  const section = element("section", { class: "tag" }, element("h2", {}, "Schemas"));
  for (const [name, schema] of Object.entries(schemas)) {
    const details = element("details", { class: "operation" }, element("summary", {}, element("span", { class: "path" }, name)), json(schema));
    details.dataset.search = `schema ${name}`.toLowerCase();
    section.append(details);
  }
  root.append(section);
}

function filter(text) {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  for (const details of window.document.querySelectorAll("details.operation")) {
    const shown = words.every((word) => details.dataset.search.includes(word));
    details.classList.toggle("hidden", !shown);
  }
}

window.addEventListener("DOMContentLoaded", async () => {
  const status = window.document.getElementById("status");
  try {
    const response = await fetch("/api/v1/openapi.json");
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    render(await response.json());
  } catch (error) {
    status.textContent = `Cannot load /api/v1/openapi.json: ${error.message}`;
  }
  window.document.getElementById("filter").addEventListener("input", (event) => filter(event.target.value));
});
