// Clubhouse: small, defensive enhancements. Every action works without this
// file; it only opens the add-member dialog, closes it after a successful
// add, moves focus sensibly, keeps the search box in step with the URL, and
// closes open menus on Escape or an outside click. No eval, no inline code.
(function () {
  'use strict';

  if (!document.addEventListener || !window.URLSearchParams) {
    return;
  }

  function closest(el, selector) {
    return el && el.closest ? el.closest(selector) : null;
  }

  function focusFirstField(root) {
    if (!root || !root.querySelector) {
      return;
    }
    var el = root.querySelector('[autofocus]') ||
      root.querySelector('input:not([type="hidden"]):not([disabled]), select, textarea');
    if (el && el.focus) {
      el.focus();
    }
  }

  function openDialog(id) {
    var dialog = document.getElementById(id);
    if (!dialog || typeof dialog.showModal !== 'function') {
      return false; // the link's href (a full-page form) takes over
    }
    if (!dialog.open) {
      dialog.showModal();
    }
    focusFirstField(dialog.querySelector('form:not([method="dialog"])'));
    return true;
  }

  function closeDialog(id) {
    var dialog = document.getElementById(id);
    if (dialog && dialog.open && typeof dialog.close === 'function') {
      dialog.close();
    }
  }

  document.addEventListener('click', function (event) {
    var opener = closest(event.target, '[data-dialog-open]');
    if (opener && openDialog(opener.getAttribute('data-dialog-open'))) {
      event.preventDefault();
      return;
    }
    var closer = closest(event.target, '[data-dialog-close]');
    if (closer) {
      closeDialog(closer.getAttribute('data-dialog-close'));
      return;
    }
    // A click outside an open menu closes it.
    document.querySelectorAll('details[data-menu][open]').forEach(function (menu) {
      if (!menu.contains(event.target)) {
        menu.removeAttribute('open');
      }
    });
  });

  // Escape closes an open menu and returns focus to its toggle. (The
  // native dialog handles Escape itself.)
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape') {
      return;
    }
    var menu = closest(document.activeElement, 'details[data-menu][open]');
    if (menu) {
      menu.removeAttribute('open');
      var summary = menu.querySelector('summary');
      if (summary) {
        summary.focus();
      }
    }
  });

  // New content from htmx: a form marked data-dialog-done means the add
  // succeeded, so its dialog closes. (Focus after an error needs no code:
  // the server marks the first invalid field autofocus, which htmx honours.)
  document.addEventListener('htmx:load', function (event) {
    var el = event.detail && event.detail.elt;
    if (!el || !el.querySelectorAll) {
      return;
    }
    var done = el.matches && el.matches('[data-dialog-done]') ? [el] : el.querySelectorAll('[data-dialog-done]');
    Array.prototype.forEach.call(done, function (form) {
      closeDialog(form.getAttribute('data-dialog-done'));
      form.removeAttribute('data-dialog-done');
    });
  });

  // Keep search and sort inputs in step with the URL after htmx pushes a
  // new one, and after Back or Forward.
  function syncParams() {
    var params = new URLSearchParams(window.location.search);
    document.querySelectorAll('input[data-sync-param]').forEach(function (input) {
      var name = input.getAttribute('data-sync-param');
      var value = params.get(name) || input.getAttribute('data-sync-default') || '';
      if (input.value !== value && document.activeElement !== input) {
        input.value = value;
      }
    });
  }
  window.addEventListener('popstate', syncParams);
  document.addEventListener('htmx:pushedIntoHistory', syncParams);
  document.addEventListener('htmx:historyRestore', syncParams);

  // Errors other than 422 are not swapped into the page (see the shell's
  // htmx-config); their message goes into the flash region instead.
  function showError(message) {
    var region = document.getElementById('flashes');
    if (!region) {
      return;
    }
    var flash = document.createElement('div');
    flash.className = 'flash flash--error';
    flash.setAttribute('data-testid', 'flash');
    flash.setAttribute('data-kind', 'error');
    flash.setAttribute('role', 'alert');
    var text = document.createElement('p');
    text.textContent = message;
    flash.appendChild(text);
    while (region.firstChild) {
      region.removeChild(region.firstChild);
    }
    region.appendChild(flash);
  }

  // errorMessage reads the title and message of an error page or fragment
  // from a response. DOMParser builds an inert document: nothing in it runs.
  function errorMessage(xhr) {
    var fallback = 'Something went wrong. Nothing was changed. Please try again.';
    if (!xhr || !xhr.responseText || !window.DOMParser) {
      return fallback;
    }
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText, 'text/html');
      var box = doc.querySelector('[data-testid="error-page"]');
      if (!box) {
        return fallback;
      }
      var title = box.querySelector('h1, h2');
      var lead = box.querySelector('.lead');
      var t = title ? title.textContent.trim() : '';
      var m = lead ? lead.textContent.trim() : '';
      if (m && (!t || m.indexOf(t) === 0)) {
        return m; // the message already says it
      }
      if (t && m) {
        return t + '. ' + m;
      }
      return t || fallback;
    } catch (e) {
      return fallback;
    }
  }

  document.addEventListener('htmx:responseError', function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status === 422) {
      return; // swapped in place with its inline errors
    }
    showError(errorMessage(xhr));
  });

  // A request that never reached the server.
  document.addEventListener('htmx:sendError', function () {
    showError('Could not reach Clubhouse. Nothing was changed. Check your connection and try again.');
  });
})();
