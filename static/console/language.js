/* Language selector of the header: choosing a language applies it at once (the button stays for no-JS use). */
(function () {
  "use strict";
  var form = document.querySelector('[data-role="language"]');
  if (!form) return;
  var apply = form.querySelector('[data-role="language-apply"]');
  if (apply) apply.hidden = true;
  form.querySelector("select").addEventListener("change", function () { form.submit(); });
})();
