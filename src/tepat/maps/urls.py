from django.urls import path

from tepat.maps import views

app_name = "maps"
urlpatterns = [
    path("", views.map_page, name="map"),
    path("data.geojson", views.data, name="data"),
    path("peta.svg", views.picture_svg, name="svg"),
    path("titik.geojson", views.points, name="points"),
]
