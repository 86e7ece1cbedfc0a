// Redaction drafting on the player: drag a box over the picture (kept in the video's own pixels),
// mark in / out for its time range; the form carries both to the server, which queues the render job.
const box = document.getElementById("redact");
if (box) {
  const video = box.querySelector("video");
  const canvas = document.getElementById("draw");
  const ctx2d = canvas.getContext("2d");
  const set = (k, v) => { document.getElementById("f_" + k).value = String(v); };
  let start = null;
  let rect = null;
  let markIn = null;
  let markOut = null;

  const fit = () => {
    canvas.width = video.clientWidth;
    canvas.height = video.clientHeight - 40; // leave the native controls usable
    canvas.style.width = canvas.width + "px";
    canvas.style.height = canvas.height + "px";
    draw();
  };
  const draw = () => {
    ctx2d.clearRect(0, 0, canvas.width, canvas.height);
    if (!rect) return;
    ctx2d.strokeStyle = "#e11";
    ctx2d.lineWidth = 2;
    ctx2d.strokeRect(rect.x, rect.y, rect.w, rect.h);
  };
  const toVideo = () => {
    // CSS pixels → the video's intrinsic pixels (object-fit: contain, letterboxed)
    const vw = video.videoWidth, vh = video.videoHeight;
    const k = Math.min(video.clientWidth / vw, video.clientHeight / vh);
    const ox = (video.clientWidth - vw * k) / 2, oy = (video.clientHeight - vh * k) / 2;
    const x = Math.max(0, Math.round((rect.x - ox) / k)), y = Math.max(0, Math.round((rect.y - oy) / k));
    set("x", x); set("y", y); set("w", Math.round(rect.w / k)); set("h", Math.round(rect.h / k));
    set("vw", vw); set("vh", vh);
    document.getElementById("box").textContent = `${x},${y} ${Math.round(rect.w / k)}×${Math.round(rect.h / k)}`;
  };
  const pos = (e) => { const r = canvas.getBoundingClientRect(); return { x: e.clientX - r.left, y: e.clientY - r.top }; };
  canvas.addEventListener("mousedown", (e) => { start = pos(e); });
  canvas.addEventListener("mousemove", (e) => {
    if (!start) return;
    const p = pos(e);
    rect = { x: Math.min(start.x, p.x), y: Math.min(start.y, p.y), w: Math.abs(p.x - start.x), h: Math.abs(p.y - start.y) };
    draw();
  });
  // on the window: a drag that ends outside the picture still ends (and keeps its box)
  window.addEventListener("mouseup", () => {
    if (!start) return;
    start = null;
    if (rect && rect.w > 2 && rect.h > 2) toVideo();
  });
  const show = () => {
    const fmt = (t) => (t == null ? "–" : t.toFixed(1) + " s");
    document.getElementById("marked").textContent = `${fmt(markIn)} → ${fmt(markOut)}`;
    if (markIn != null) set("t0_ms", Math.round(markIn * 1000));
    if (markOut != null) set("t1_ms", Math.round(markOut * 1000));
  };
  box.querySelector("[data-action=mark-in]").addEventListener("click", () => { markIn = video.currentTime; show(); });
  box.querySelector("[data-action=mark-out]").addEventListener("click", () => { markOut = video.currentTime; show(); });
  video.addEventListener("loadedmetadata", fit);
  if (video.readyState >= 1) fit(); // the metadata may have arrived before this script ran
  window.addEventListener("resize", fit);
}
