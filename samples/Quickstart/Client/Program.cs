using Quickstart.Client;

var authority = args.Length > 0 ? args[0] : "http://127.0.0.1:5001";
var api = args.Length > 1 ? args[1] : "http://127.0.0.1:5002";
return await ClientApp.RunAsync(authority, api, Console.Out);
