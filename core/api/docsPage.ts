/**
 * GET /docs: a self-contained page that renders /openapi.json — no CDN script, so it works on an
 * air-gapped host and under a strict Content-Security-Policy (everything is inline and same-origin).
 */
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>redis-ferry API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:960px;padding:0 1rem;color:#1b1f24}
h1{font-size:1.4rem}.op{border:1px solid #d0d7de;border-radius:6px;margin:.75rem 0}
.op summary{cursor:pointer;padding:.5rem .75rem;display:flex;gap:.75rem;align-items:baseline}
.m{font:600 12px monospace;padding:2px 6px;border-radius:4px;color:#fff;min-width:3.5rem;text-align:center}
.get{background:#0969da}.post{background:#1a7f37}.delete{background:#cf222e}
code,pre{font:12px/1.4 ui-monospace,monospace}pre{background:#f6f8fa;padding:.75rem;overflow:auto;margin:0 .75rem .75rem}
.body{padding:0 .75rem}
</style></head>
<body><h1>redis-ferry job API</h1>
<p>Machine-readable document: <a href="openapi.json">/openapi.json</a> (OpenAPI 3.1).
Authenticate with <code>Authorization: Bearer &lt;api key&gt;</code>.</p>
<div id="ops">Loading…</div>
<script>
fetch("openapi.json").then(r=>r.json()).then(doc=>{
  const ops=document.getElementById("ops");ops.textContent="";
  for(const [path,item] of Object.entries(doc.paths)){
    for(const [method,op] of Object.entries(item)){
      const d=document.createElement("details");d.className="op";
      const s=document.createElement("summary");
      const m=document.createElement("span");m.className="m "+method;m.textContent=method.toUpperCase();
      const p=document.createElement("code");p.textContent=path;
      const t=document.createElement("span");t.textContent=op.summary||"";
      s.append(m,p,t);d.append(s);
      const pre=document.createElement("pre");
      pre.textContent=JSON.stringify({parameters:op.parameters,requestBody:op.requestBody,responses:op.responses},null,2);
      d.append(pre);ops.append(d);
    }
  }
  const c=document.createElement("details");c.className="op";
  c.innerHTML="<summary><span class='m get'>SCHEMA</span><code>components</code></summary>";
  const pre=document.createElement("pre");pre.textContent=JSON.stringify(doc.components,null,2);c.append(pre);ops.append(c);
}).catch(e=>{document.getElementById("ops").textContent="Could not load openapi.json: "+e});
</script></body></html>`;
