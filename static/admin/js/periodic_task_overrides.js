/* django-celery-beat's periodic task form: the crontab's human-readable translation under it
   (its upstream template does this in an inline script, which the admin's CSP refuses). */
(function () {
  "use strict";
  var $ = django.jQuery;
  var readableCrontabs = JSON.parse($("#readable-crontabs").text());
  var originalCrontabHelp = $("#crontab-original-help").text();
  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    var additional = readableCrontabs[$("#id_crontab").val()];
    $(".field-crontab .help").text(originalCrontabHelp).append("<br>", document.createTextNode("Translation: " + additional));
  });
})();
