/* convanim's player: drives the .convanim-player figure this script sits in.
   No network, no globals: every player on a page has its own copy and state. */
(function (root) {
  "use strict";
  var data = JSON.parse(root.querySelector(".convanim-data").textContent);
  var count = data.frames.length;
  var patch = root.querySelector(".convanim-patch");
  var playButton = root.querySelector('[data-action="play"]');
  var scrubber = root.querySelector(".convanim-scrubber");
  var speed = root.querySelector(".convanim-speed");
  var status = root.querySelector(".convanim-status");
  var index = 0;
  var timer = null;

  function percent(value, whole) {
    return (100 * value) / whole + "%";
  }

  // Frame i is the base with its own patch over it (none: the frame is the base).
  function show(next) {
    index = ((next % count) + count) % count;
    var frame = data.frames[index];
    if (frame) {
      patch.style.left = percent(frame[0], data.width);
      patch.style.top = percent(frame[1], data.height);
      patch.style.width = percent(frame[2], data.width);
      patch.style.height = percent(frame[3], data.height);
      patch.src = frame[4];
      patch.hidden = false;
    } else {
      patch.hidden = true;
      patch.removeAttribute("src");
    }
    scrubber.value = String(index);
    var text = "Frame " + (index + 1) + " of " + count;
    if (data.captions) {
      text += ": " + data.captions[index];
    }
    status.textContent = text;
    root.setAttribute("data-frame", String(index));
  }

  function schedule() {
    timer = window.setTimeout(function () {
      show(index + 1);
      schedule();
    }, data.frameMs / Number(speed.value));
  }

  function setPlaying(playing) {
    playButton.setAttribute("aria-label", playing ? "Pause" : "Play");
    playButton.title = playing ? "Pause (space)" : "Play (space)";
    playButton.setAttribute("aria-pressed", playing ? "true" : "false");
    // Announce frames to screen readers only when they do not change by themselves.
    status.setAttribute("aria-live", playing ? "off" : "polite");
    root.setAttribute("data-playing", playing ? "true" : "false");
  }

  function play() {
    if (timer === null && count > 1) {
      schedule();
      setPlaying(true);
    }
  }

  function pause() {
    if (timer !== null) {
      window.clearTimeout(timer);
      timer = null;
    }
    setPlaying(false);
  }

  function toggle() {
    if (timer === null) {
      play();
    } else {
      pause();
    }
  }

  function go(to) {
    pause();
    show(to);
  }

  root.querySelector('[data-action="back"]').addEventListener("click", function () {
    go(index - 1);
  });
  root.querySelector('[data-action="forward"]').addEventListener("click", function () {
    go(index + 1);
  });
  playButton.addEventListener("click", toggle);
  scrubber.addEventListener("input", function () {
    go(Number(scrubber.value));
  });
  speed.addEventListener("change", function () {
    if (timer !== null) {
      window.clearTimeout(timer);
      schedule();
    }
  });

  // On its own page the keys act anywhere; embedded, while the player has the focus.
  var keys = root.hasAttribute("data-page") ? document : root;
  keys.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) {
      return;
    }
    var tag = event.target && event.target.tagName;
    if (tag === "SELECT" || tag === "TEXTAREA" || (tag === "INPUT" && event.key !== " ")) {
      return; // the scrubber's own arrows, Home and End move it, and so the frame
    }
    switch (event.key) {
      case " ":
        toggle();
        break;
      case "ArrowLeft":
        go(index - 1);
        break;
      case "ArrowRight":
        go(index + 1);
        break;
      case "Home":
        go(0);
        break;
      case "End":
        go(count - 1);
        break;
      default:
        return;
    }
    event.preventDefault(); // no scrolling, and no second press of a focused button
  });

  show(0);
  setPlaying(false);
  var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  if (!still) {
    play(); // as the GIF does
  }
})(document.currentScript.parentElement);
