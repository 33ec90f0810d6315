// Progressive enhancement only: every page works without this file.
// Show-password toggles (P3): the buttons are hidden until this script runs.
document.querySelectorAll('button[data-toggle-for]').forEach(function (button) {
  var input = document.getElementById(button.getAttribute('data-toggle-for'));
  if (!input) return;
  button.hidden = false;
  button.addEventListener('click', function () {
    var show = input.type === 'password';
    input.type = show ? 'text' : 'password';
    button.textContent = show ? button.getAttribute('data-hide') : button.getAttribute('data-show');
    button.setAttribute('aria-pressed', show ? 'true' : 'false');
  });
});
// Move focus to the error summary so that screen readers announce it (W1).
var summary = document.getElementById('error-summary');
if (summary) summary.focus();
// 事業別トップメニュー is a <details>, so it opens and closes without this script; here Escape closes it and puts the
// focus back on its toggle (WCAG 2.1.2, as a menu button does), and a click or a Tab outside it closes it too.
document.querySelectorAll('details.menu').forEach(function (menu) {
  var toggle = menu.querySelector('summary');
  menu.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape' || !menu.open) return;
    event.preventDefault();
    menu.open = false;
    if (toggle) toggle.focus();
  });
  menu.addEventListener('focusout', function (event) {
    if (menu.open && event.relatedTarget && !menu.contains(event.relatedTarget)) menu.open = false;
  });
  document.addEventListener('click', function (event) {
    if (menu.open && !menu.contains(event.target)) menu.open = false;
  });
});
